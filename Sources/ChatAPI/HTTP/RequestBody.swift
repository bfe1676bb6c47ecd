import ChatGateway
import Hummingbird
import Model
import NIOCore

/// Reading an HTTP request's parameters (the WebSocket send frame has its own body).
extension RequestParameters {
    /// Reads and parses the body; a malformed or oversized one is `fail(…)`.
    // Not inlined: a Swift 6.3.1 release-build crash (docs/architecture.md, *Modules*).
    @inline(never)
    static func read(from request: inout Request) async throws(APIFailure) -> RequestParameters {
        let bytes: ByteBuffer
        do {
            // A multipart body is a file upload: its route streams it to disk, so it is
            // not read here (the token then comes from the header or the query).
            bytes = isMultipart(request) ? ByteBuffer() : try await request.collectBody(upTo: maximumBodySize)
        } catch is NIOTooManyBytesError {
            throw APIFailure(bodyTooLarge)
        } catch {
            throw APIFailure(malformedBody)
        }
        let query = Dictionary(
            request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { first, _ in first }
        )
        let body = try parseBody(Array(buffer: bytes), contentType: request.headers[.contentType])
        return RequestParameters(body: body, query: query, headers: request.headers)
    }

    static func isMultipart(_ request: Request) -> Bool {
        request.headers[.contentType]?.lowercased().hasPrefix("multipart/") == true
    }
}
