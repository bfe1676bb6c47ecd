import Hummingbird
import NIOCore

/// `MultipartParser` over a request body as it streams in: pulls the next chunk only
/// when the parser needs more bytes.
struct MultipartReader {
    private var parser: MultipartParser
    private var chunks: RequestBody.AsyncIterator
    private var inputEnded = false

    init(body: RequestBody, boundary: String) {
        parser = MultipartParser(boundary: boundary)
        chunks = body.makeAsyncIterator()
    }

    /// The next event; nil once the closing delimiter was read. Throws
    /// `MultipartParser.Failure` for a bad or cut-off body, and the body's own error when
    /// the connection fails.
    mutating func next() async throws -> MultipartParser.Event? {
        while true {
            if let event = try parser.next() { return event }
            if inputEnded {
                try parser.finish()
                return nil
            }
            if let chunk = try await chunks.next() {
                parser.append(chunk)
            } else {
                inputEnded = true
            }
        }
    }
}
