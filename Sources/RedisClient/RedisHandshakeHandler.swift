import NIOCore

/// Sends a new connection's handshake (AUTH, SELECT, PING) as soon as the channel is
/// active, takes its replies, and then leaves the pipeline: whatever comes after is the
/// traffic of the handlers behind it, which never see the handshake.
///
/// `replies` fails when the channel closes first or no complete answer arrives within
/// `timeout` (then it also closes the channel): a server that accepts connections but
/// does not answer (paused, overloaded) is not connected.
final class RedisHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = RedisReplies
    typealias InboundOut = RedisReplies
    typealias OutboundOut = ByteBuffer

    private let commands: [RedisCommand]
    private let timeout: TimeAmount
    private var received: [RedisReply] = []
    private var promise: EventLoopPromise<[RedisReply]>?
    private var timer: Scheduled<Void>?

    init(commands: [RedisCommand], timeout: TimeAmount) {
        self.commands = commands
        self.timeout = timeout
        received.reserveCapacity(commands.count)
    }

    /// The handshake's replies, error replies included; set once the handler is added.
    private(set) var replies: EventLoopFuture<[RedisReply]>?

    func handlerAdded(context: ChannelHandlerContext) {
        let promise = context.eventLoop.makePromise(of: [RedisReply].self)
        self.promise = promise
        replies = promise.futureResult
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(.connectionClosed)
    }

    func channelActive(context: ChannelHandlerContext) {
        var bytes = context.channel.allocator.buffer(capacity: 64)
        for command in commands { command.encode(into: &bytes) }
        context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        let timeout = self.timeout
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            timer = nil
            fail(.timeout(timeout, detail: "no answer to the handshake"))
            context.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error as? RedisError ?? .connectionClosed)
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let replies = unwrapInboundIn(data)
        var used = 0
        while used < replies.roots.count && received.count < commands.count {
            received.append(replies.tape.reply(at: replies.roots[used]).reply)
            used += 1
        }
        guard received.count == commands.count, let promise else { return }
        timer?.cancel()
        timer = nil
        self.promise = nil
        // Nothing is sent before the handshake is answered, so nothing should follow its
        // replies; if something does, the handlers behind judge it.
        if used < replies.roots.count {
            context.fireChannelRead(wrapInboundOut(RedisReplies(tape: replies.tape, roots: Array(replies.roots[used...]))))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        promise.succeed(received)
    }

    private func fail(_ error: RedisError) {
        timer?.cancel()
        timer = nil
        promise?.fail(error)
        promise = nil
    }
}
