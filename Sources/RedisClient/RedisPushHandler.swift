import NIOCore

/// Hands every reply of a pub/sub connection to its owner. In subscribed mode Redis
/// pushes messages unprompted, so there is nothing to match replies against.
final class RedisPushHandler: ChannelInboundHandler {
    typealias InboundIn = RedisReplies

    private let onReply: (RedisReply, any Channel) -> Void

    init(onReply: @escaping (RedisReply, any Channel) -> Void) {
        self.onReply = onReply
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        for reply in unwrapInboundIn(data) { onReply(reply.reply, context.channel) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
