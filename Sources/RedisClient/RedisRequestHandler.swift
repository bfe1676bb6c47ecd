import DequeModule
import NIOCore

/// Pipelining: writes requests as they come and matches replies to them in order.
///
/// Every request carries a deadline. Replies arrive in order, so when the oldest
/// request is overdue every later one is stuck behind it: all of them fail with a
/// timeout and the connection is closed (to be replaced), rather than letting a late
/// reply be matched to the wrong request.
final class RedisRequestHandler: ChannelInboundHandler {
    typealias InboundIn = RedisReplies
    typealias OutboundOut = ByteBuffer

    private struct InFlight {
        var responder: RedisResponder
        let deadline: NIODeadline
    }

    private var inFlight = Deque<InFlight>()
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var flushScheduled = false
    private let endpointDescription: String
    private let commandTimeout: TimeAmount
    private let metrics: RedisClientMetrics
    /// Set once the channel is closing: new requests must go to another connection.
    private var isClosing = false

    init(endpointDescription: String, commandTimeout: TimeAmount, metrics: RedisClientMetrics) {
        self.endpointDescription = endpointDescription
        self.commandTimeout = commandTimeout
        self.metrics = metrics
    }

    // Not `channelActive`: NIO succeeds the connect promise before firing it, and the
    // handshake is written from the promise's callback.
    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(.connectionClosed)
        self.context = nil
    }

    /// Writes a request. Returns false, without touching it, when the connection is no
    /// longer usable, so the caller can send it elsewhere: it was never written.
    func send(_ request: RedisRequest) -> Bool {
        guard !isClosing, let context else { return false }
        inFlight.append(InFlight(responder: request.responder, deadline: request.deadline))
        context.write(wrapOutboundOut(request.bytes), promise: nil)
        scheduleFlush(context)
        armTimer(context)
        return true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        for reply in unwrapInboundIn(data) {
            guard let head = inFlight.first else {
                context.fireErrorCaught(RedisError.protocolError("a reply arrived with no command waiting for it"))
                context.close(promise: nil)
                return
            }
            switch head.responder {
            case .single(let continuation):
                inFlight.removeFirst()
                continuation.resume(returning: reply.reply)
            case .flat(let continuation):
                inFlight.removeFirst()
                continuation.resume(returning: reply)
            case .flatPromise(let promise):
                inFlight.removeFirst()
                promise.succeed(reply)
            case .batch(let collector):
                // Dequeue before completing: completion may run callbacks that re-enter
                // this handler (a handshake's callback sends the queued requests).
                if collector.isAwaitingLastReply { inFlight.removeFirst() }
                collector.add(reply.reply)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosing = true
        failAll(.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        isClosing = true
        failAll(error as? RedisError ?? .connectionClosed)
        context.close(promise: nil)
    }

    // Writes from many callers that land in the same event-loop tick leave in one
    // syscall: the flush runs after the tasks already queued.
    private func scheduleFlush(_ context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute { [self] in
            flushScheduled = false
            self.context?.flush()
        }
    }

    // One timer, set for the oldest request's deadline; re-armed lazily when it fires.
    private func armTimer(_ context: ChannelHandlerContext) {
        guard timer == nil, let head = inFlight.first else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: head.deadline) { [self] in
            timer = nil
            checkDeadlines()
        }
    }

    private func checkDeadlines() {
        guard let context, let head = inFlight.first else { return }
        if head.deadline <= .now() {
            isClosing = true
            metrics.timeouts.increment(by: inFlight.count)
            failAll(.timeout(commandTimeout, detail: "no reply from \(endpointDescription)"))
            context.close(promise: nil)
        } else {
            armTimer(context)
        }
    }

    private func failAll(_ error: RedisError) {
        timer?.cancel()
        timer = nil
        let failed = inFlight
        inFlight.removeAll()
        for request in failed { request.responder.fail(error) }
    }
}
