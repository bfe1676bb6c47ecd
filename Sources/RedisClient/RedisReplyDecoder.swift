import NIOCore

/// Bytes in, replies out, parsed by hiredis. hiredis keeps its own buffer of partial
/// replies, so bytes are handed over as they arrive and never accumulated here. The
/// replies of one read travel on together: one pipeline event per read, not per reply.
final class RedisReplyDecoder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = [RedisReply]

    private let reader = HiredisReader()
    private var failed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let buffer = unwrapInboundIn(data)
        do {
            try buffer.withUnsafeReadableBytes { bytes throws(RedisError) in try reader.feed(bytes) }
            var replies: [RedisReply] = []
            while let reply = try reader.next() { replies.append(reply) }
            if !replies.isEmpty { context.fireChannelRead(wrapInboundOut(replies)) }
        } catch {
            // After a parse error the stream cannot be re-synchronised: drop the connection.
            failed = true
            context.fireErrorCaught(error)
            context.close(promise: nil)
        }
    }
}
