import ChatGateway
import Hummingbird
import Model

/// The response envelope of docs/api.md: `ok(data)` = 200 `{"msg":"ok","data":…}`,
/// `fail(text)` = 400 `{"msg":"fail","data":"<Chinese text>"}`. The client treats any
/// 2xx as success, so a failure never goes out as 200.
enum APIResponse {
    static func ok(_ data: JSONValue) -> Response {
        envelope(status: .ok, message: "ok", data: data)
    }

    /// `ok(data)` around JSON that is already serialized (a message object from Redis).
    static func ok(json data: [UInt8]) -> Response {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(data.count + 24)
        buffer.writeStaticString(#"{"msg":"ok","data":"#)
        buffer.writeBytes(data)
        buffer.writeStaticString("}")
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: ResponseBody(byteBuffer: buffer))
    }

    static func fail(_ text: String) -> Response {
        envelope(status: .badRequest, message: "fail", data: .string(text))
    }

    /// The complaint endpoints put their Chinese text in `msg` (as the old server did).
    static func envelope(status: HTTPResponse.Status, message: String, data: JSONValue) -> Response {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        JSONSerializer.write(["msg": .string(message), "data": data], into: &bytes)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}

/// A failure's HTTP form: `fail(text)`.
extension APIFailure: HTTPResponseError {
    package var status: HTTPResponse.Status { .badRequest }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        APIResponse.fail(text)
    }
}
