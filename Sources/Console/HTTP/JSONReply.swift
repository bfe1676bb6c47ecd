import Hummingbird
import Model
import NIOCore

/// The JSON API's envelope, the chat API's shape (docs/api.md, *Console JSON API*):
/// `{"msg":"ok","data":…}` or `{"msg":"fail","data":"中文"}`, HTTP 200 both; 401 without a
/// session and 403 without the CSRF token carry the same `fail` body.
enum JSONReply {
    static func ok(_ data: JSONValue) -> Response {
        envelope(.ok, message: "ok", data: data)
    }

    static func fail(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        envelope(status, message: "fail", data: .string(text))
    }

    private static func envelope(_ status: HTTPResponse.Status, message: String, data: JSONValue) -> Response {
        var bytes: [UInt8] = []
        JSONSerializer.write(["msg": .string(message), "data": data], into: &bytes)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
