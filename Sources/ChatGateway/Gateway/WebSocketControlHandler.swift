import NIOCore
import NIOWebSocket

/// Answers the protocol's control frames so the layers above see only data: a ping gets
/// its pong, a pong is dropped (the liveness handler has already seen it go by), and a
/// close started by the client gets the closing handshake's reply before the connection
/// ends (RFC 6455 §5.5.1; the client chose to close, so this logs nobody out).
final class WebSocketControlHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private var closing = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            return
        case .connectionClose:
            guard !closing else { return }
            closing = true
            var reply = context.channel.allocator.buffer(capacity: 2)
            var received = frame.unmaskedData
            if let code = received.readWebSocketErrorCode() { reply.write(webSocketErrorCode: code) }
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: reply)))
                .whenComplete { _ in bound.value.close(promise: nil) }
        default:
            guard !closing else { return }
            context.fireChannelRead(data)
        }
    }
}
