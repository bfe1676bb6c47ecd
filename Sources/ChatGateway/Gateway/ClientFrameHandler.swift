import Model
import NIOCore
import NIOWebSocket

/// The client's text messages (docs/api.md, *WebSocket*, *Frames*): a ping in any of its three forms
/// gets a pong; a send frame goes on to `WebSocketSendHandler`; everything else —
/// `{"type":"pong"}`, and text that is not JSON at all, such as the `undefined` older
/// clients send — is ignored without closing.
final class ClientFrameHandler: ChannelInboundHandler {
    typealias InboundIn = String
    typealias InboundOut = ClientSend
    typealias OutboundOut = WebSocketFrame

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch ClientFrame(unwrapInboundIn(data)) {
        case .ping:
            let pong = ServerFrame.pong(at: WallClock.milliseconds(), allocator: context.channel.allocator)
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: pong)), promise: nil)
        case .send(let send):
            context.fireChannelRead(wrapInboundOut(send))
        case .ignored:
            return
        }
    }
}
