import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

struct HTTPFailure: Error, CustomStringConvertible {
    let description: String
}

/// One keep-alive HTTP/1.1 connection for the set-up requests of a benchmark
/// (registration, settings): one request after the other, each answer read whole. Not for
/// load: `ChatHTTPSender` is the measured HTTP client.
final class HTTPSession {
    private let host: String
    private let port: Int
    private var responses: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    private let requests: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>

    private init(
        host: String, port: Int,
        responses: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator,
        requests: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
    ) {
        self.host = host
        self.port = port
        self.responses = responses
        self.requests = requests
    }

    /// Runs `body` with a session on a new connection, closed afterwards.
    static func with<Result: Sendable>(
        host: String, port: Int, group: any EventLoopGroup, _ body: (HTTPSession) async throws -> Result
    ) async throws -> Result {
        let channel = try await ClientBootstrap(group: group).connect(host: host, port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
            }
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await body(HTTPSession(host: host, port: port, responses: inbound.makeAsyncIterator(), requests: outbound))
        }
    }

    /// POSTs a JSON object (with the `token` header when given); returns the answer's body.
    func post(_ path: String, json object: [String: Any], token: String? = nil) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: object)
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers.add(name: "Host", value: "\(host):\(port)")
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(body.count))
        if let token { head.headers.add(name: "token", value: token) }
        try await requests.write(contentsOf: [.head(head), .body(.byteBuffer(ByteBuffer(bytes: body))), .end(nil)])
        return try await answer(to: "POST " + path)
    }

    /// GETs a path (with the `token` header when given); returns the answer's body.
    func get(_ path: String, token: String? = nil) async throws -> String {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: "\(host):\(port)")
        if let token { head.headers.add(name: "token", value: token) }
        try await requests.write(contentsOf: [.head(head), .end(nil)])
        return try await answer(to: path)
    }

    /// The body of the next answer.
    private func answer(to path: String) async throws -> String {
        var reply = ByteBuffer()
        while let part = try await responses.next() {
            switch part {
            case .head: continue
            case .body(var bytes): reply.writeBuffer(&bytes)
            case .end: return String(buffer: reply)
            }
        }
        throw HTTPFailure(description: "\(path): the connection closed before the answer")
    }

    /// `data` of a `{"msg":"ok","data":…}` envelope; throws with the answer otherwise.
    static func okData(_ text: String, what: String) throws -> Any {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              object["msg"] as? String == "ok", let data = object["data"]
        else { throw HTTPFailure(description: "\(what): \(text.prefix(200))") }
        return data
    }
}
