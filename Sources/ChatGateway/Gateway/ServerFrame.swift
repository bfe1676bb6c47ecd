import Model
import NIOCore

/// The server → client text frames of docs/api.md, written straight into buffers: a
/// delivered message object is wrapped as it came from Redis, never parsed again.
enum ServerFrame {
    static let ping = #"{"type":"ping"}"#
    static let welcomeText = "欢迎您访问我们的系统！"
    static let forceLogoutText = "你的账号在其他设备登录"

    private static let singleChatPrefix: StaticString = #"{"type":"singleChat","data":"#

    /// `{"type":"singleChat","data":<message>,"timestamp":<ms>}`.
    static func singleChat(_ message: [UInt8], at milliseconds: Int64, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: message.count + 64)
        buffer.writeStaticString(singleChatPrefix)
        buffer.writeBytes(message)
        buffer.writeStaticString(#","timestamp":"#)
        buffer.writeString(String(milliseconds))
        buffer.writeStaticString("}")
        return buffer
    }

    /// The message object of `length` bytes inside a frame `singleChat` built: a frame
    /// waiting for the kernel is the only copy of its message (docs/architecture.md,
    /// *Back-pressure*).
    static func message(inSingleChat frame: ByteBuffer, length: Int) -> [UInt8] {
        frame.getBytes(at: frame.readerIndex + singleChatPrefix.utf8CodeUnitCount, length: length) ?? []
    }

    /// The answer to a send frame: `{"type":"ack","cid":…,"msg":"ok","data":<message>}`,
    /// or `"msg":"fail"` with the Chinese text as `data` (the HTTP envelope, plus the id).
    static func acknowledgement(
        clientID: String?, _ result: Result<[UInt8], APIFailure>, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var bytes: [UInt8] = []
        JSONSerializer.write(clientID.map(JSONValue.string) ?? .null, into: &bytes)
        var buffer = allocator.buffer(capacity: bytes.count + 64)
        buffer.writeStaticString(#"{"type":"ack","cid":"#)
        buffer.writeBytes(bytes)
        switch result {
        case .success(let message):
            buffer.writeStaticString(#","msg":"ok","data":"#)
            buffer.writeBytes(message)
        case .failure(let failure):
            bytes.removeAll(keepingCapacity: true)
            JSONSerializer.writeString(failure.text, into: &bytes)
            buffer.writeStaticString(#","msg":"fail","data":"#)
            buffer.writeBytes(bytes)
        }
        buffer.writeStaticString("}")
        return buffer
    }

    static func welcome(at milliseconds: Int64, allocator: ByteBufferAllocator) -> ByteBuffer {
        object(["type": "system", "data": .string(welcomeText), "timestamp": .integer(milliseconds)], allocator: allocator)
    }

    static func pong(at milliseconds: Int64, allocator: ByteBufferAllocator) -> ByteBuffer {
        object(["type": "pong", "timestamp": .integer(milliseconds)], allocator: allocator)
    }

    /// A refused connection's reason, sent before the close frame.
    static func fail(_ text: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        object(["msg": "fail", "data": .string(text)], allocator: allocator)
    }

    static func forceLogout(allocator: ByteBufferAllocator) -> ByteBuffer {
        object(["msg": "force_logout", "data": .string(forceLogoutText)], allocator: allocator)
    }

    private static func object(_ object: JSONObject, allocator: ByteBufferAllocator) -> ByteBuffer {
        let text = JSONSerializer.string(.object(object))
        var buffer = allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        return buffer
    }
}
