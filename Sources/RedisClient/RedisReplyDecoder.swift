import NIOCore

/// Bytes in, `RedisReply` values out, parsed by hiredis. hiredis keeps its own buffer of
/// partial replies, so bytes are handed over as they arrive and never accumulated here.
final class RedisReplyDecoder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = RedisReply

    private let reader = HiredisReader()
    private var failed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let buffer = unwrapInboundIn(data)
        do {
            try buffer.withUnsafeReadableBytes { bytes throws(RedisError) in try reader.feed(bytes) }
            while let reply = try reader.next() {
                context.fireChannelRead(wrapInboundOut(reply))
            }
        } catch {
            // After a parse error the stream cannot be re-synchronised: drop the connection.
            failed = true
            context.fireErrorCaught(error)
            context.close(promise: nil)
        }
    }
}
