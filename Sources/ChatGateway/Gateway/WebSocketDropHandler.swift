import NIOCore
import NIOWebSocket

/// Asks a WebSocket's pipeline to drop the connection (back-pressure: docs/architecture.md,
/// *Delivery*).
struct WebSocketDrop: Sendable {}

/// Drops a connection without a close frame and without a reset. Closing a socket whose
/// peer sent bytes the bridge has not read makes the kernel answer with an RST, which
/// throws away what it still holds for the peer — and a connection over its budget has
/// usually stopped being read (`WebSocketSendHandler` holds reads while it is not
/// writable). So the socket is read first, what arrives discarded, and closed once it has
/// been quiet for `quiet` (after `patience` at most): a FIN, behind what the kernel holds.
final class WebSocketDropHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame

    static let quiet: TimeAmount = .milliseconds(20)
    static let patience: TimeAmount = .seconds(1)

    private var draining = false
    private var giveUpAt = NIODeadline.now()
    private var closing: Scheduled<Void>?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !draining else { return }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard draining else { return context.fireChannelReadComplete() }
        closeWhenQuiet(context: context)
        context.read()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is WebSocketDrop else { return context.fireUserInboundEventTriggered(event) }
        guard !draining, context.channel.isActive else { return }
        draining = true
        giveUpAt = .now() + Self.patience
        closeWhenQuiet(context: context)
        // From here, past the handlers that may hold reads.
        context.read()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing?.cancel()
        closing = nil
        context.fireChannelInactive()
    }

    private func closeWhenQuiet(context: ChannelHandlerContext) {
        closing?.cancel()
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        closing = context.eventLoop.scheduleTask(deadline: min(.now() + Self.quiet, giveUpAt)) {
            bound.value.close(promise: nil)
        }
    }
}
