import NIOCore
import NIOWebSocket

/// Keeps a connection honest both ways. Every `interval` it sends the application ping
/// the deployed client expects (`{"type":"ping"}`, which it never answers) and a protocol
/// ping, which every WebSocket stack answers by itself. A peer from which nothing at all
/// arrived for two intervals is dead, and its TCP connection is dropped without a close
/// frame — as on graceful shutdown (`ChannelShouldQuiesceEvent`) and when the peer ends
/// its side — so that the client
/// sees 1006 and reconnects instead of logging out (docs/api.md, *Close semantics*).
final class WebSocketLivenessHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// Intervals without a single inbound frame after which the peer counts as dead.
    static let silentIntervalsAllowed = 2

    private let interval: TimeAmount
    private var heardSinceLastTick = true
    private var silentIntervals = 0
    private var timer: RepeatedTask?

    init(interval: TimeAmount) {
        self.interval = interval
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Added after the upgrade, when the channel is long active.
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        heardSinceLastTick = true
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ChannelShouldQuiesceEvent, ChannelEvent.inputClosed:
            // Shutdown, or the peer closed its side (the server allows half-closure for
            // HTTP): a WebSocket has nothing more to say either way.
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func start(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let (handler, context) = bound.value
            handler.tick(context: context)
        }
    }

    private func tick(context: ChannelHandlerContext) {
        silentIntervals = heardSinceLastTick ? 0 : silentIntervals + 1
        heardSinceLastTick = false
        guard silentIntervals < Self.silentIntervalsAllowed else {
            context.close(promise: nil)
            return
        }
        var ping = context.channel.allocator.buffer(capacity: ServerFrame.ping.utf8.count)
        ping.writeString(ServerFrame.ping)
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: ping)), promise: nil)
        let probe = WebSocketFrame(fin: true, opcode: .ping, data: context.channel.allocator.buffer(capacity: 0))
        context.writeAndFlush(wrapOutboundOut(probe), promise: nil)
    }
}
