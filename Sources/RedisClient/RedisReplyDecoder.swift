import NIOCore

/// Bytes in, replies out, parsed by hiredis. hiredis keeps its own buffer of partial
/// replies, so bytes are handed over as they arrive and never accumulated here. The
/// replies of one read travel on together, flat (``RedisReplies``): one pipeline event
/// per read, not per reply, and no tree built unless the receiver asks for one.
final class RedisReplyDecoder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = RedisReplies

    private let reader = HiredisReader()
    private var roots: [Int] = []
    private var failed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let buffer = unwrapInboundIn(data)
        do {
            try buffer.withUnsafeReadableBytes { bytes throws(RedisError) in try reader.feed(bytes) }
            try reader.parse(into: &roots)
        } catch {
            // After a parse error the stream cannot be re-synchronised: drop the connection.
            failed = true
            context.fireErrorCaught(error)
            context.close(promise: nil)
            return
        }
        guard !roots.isEmpty else { return }
        context.fireChannelRead(wrapInboundOut(RedisReplies(tape: reader.tape, roots: roots)))
        // The receivers are done with them (or hold their own references): the storage
        // is reused when nobody kept it.
        roots.removeAll(keepingCapacity: true)
        reader.removeCompletedReplies()
    }
}

/// The replies completed by one read, in order.
struct RedisReplies: Sequence {
    let tape: RedisReplyTape
    let roots: [Int]

    func makeIterator() -> some IteratorProtocol<RedisFlatReply> {
        roots.lazy.map { [tape] in tape.reply(at: $0) }.makeIterator()
    }
}
