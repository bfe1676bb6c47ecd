import NIOCore
import NIOWebSocket

extension Channel {
    /// Ends a WebSocket with a close frame (docs/api.md: only for kicks, failed
    /// connections and protocol abuse; everything else drops the TCP connection so the
    /// deployed client reconnects instead of logging out).
    func closeWebSocket(code: WebSocketErrorCode, after last: ByteBuffer? = nil) {
        if let last { write(WebSocketFrame(fin: true, opcode: .text, data: last), promise: nil) }
        var data = allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: code)
        writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)).whenComplete { _ in
            self.close(promise: nil)
        }
    }
}
