import Model
import NIOCore
import NIOWebSocket

/// The client's text messages (WEBSOCKET.md, *Frames*): a ping in any of its three forms
/// (`{"type":"ping","token":…}`, `{"type":"ping"}`, the bare text `ping`) gets a pong;
/// everything else — `{"type":"pong"}`, and text that is not JSON at all, such as the
/// `undefined` older clients send — is ignored without closing.
final class ClientFrameHandler: ChannelInboundHandler {
    typealias InboundIn = String
    typealias OutboundOut = WebSocketFrame

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let text = unwrapInboundIn(data)
        guard Self.isPing(text) else { return }
        let pong = ServerFrame.pong(at: WallClock.milliseconds(), allocator: context.channel.allocator)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: pong)), promise: nil)
    }

    static func isPing(_ text: String) -> Bool {
        if text == "ping" { return true }
        guard text.utf8.first == UInt8(ascii: "{"), case .object(let object)? = try? JSONParser.parse(text) else { return false }
        return object["type"] == "ping"
    }
}
