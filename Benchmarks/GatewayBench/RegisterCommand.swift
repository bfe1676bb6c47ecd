import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Registers `users` accounts through the bridge's own `POST /api/regChat` — so the
/// tokens are exactly those a deployed client would hold — over `concurrency` keep-alive
/// HTTP connections, and writes their tokens to `out`, one per line. Prints
/// `registered=N seconds=S rate=R`.
struct RegisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Create accounts through POST /api/regChat and write their tokens to a file."
    )

    @Option(help: "Bridge address.") var host = "127.0.0.1"
    @Option(help: "Bridge port.") var port: Int
    @Option(help: "Accounts to create.") var users = 10_000
    @Option(help: "Username prefix; usernames are the prefix and a six-digit index (4–20 characters in all).")
    var prefix = "gb"
    @Option(help: "Password of every account (6–20 characters).") var password = "bench-password"
    @Option(help: "HTTP connections, each sending one request after the other.") var concurrency = 8
    @Option(help: "Where the tokens go, one per line, in username order.") var out: String

    func validate() throws {
        guard users > 0, concurrency > 0 else { throw ValidationError("--users and --concurrency must be positive") }
        guard (4...20).contains(username(users - 1).count) else { throw ValidationError("usernames must be 4–20 characters: shorten --prefix") }
    }

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clock = ContinuousClock()
        let start = clock.now
        var tokens = [String](repeating: "", count: users)
        try await withThrowingTaskGroup(of: [(Int, String)].self) { workers in
            for worker in 0..<min(concurrency, users) {
                let indices = Array(stride(from: worker, to: users, by: concurrency))
                let client = Registrar(host: host, port: port, password: password, group: group)
                let names = indices.map { ($0, username($0)) }
                workers.addTask { try await client.register(names) }
            }
            for try await done in workers {
                for (index, token) in done { tokens[index] = token }
            }
        }
        let seconds = (clock.now - start).seconds
        try Data((tokens.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: out))
        print(String(format: "registered=%d seconds=%.3f rate=%.0f", users, seconds, Double(users) / seconds))
        try await group.shutdownGracefully()
    }

    private func username(_ index: Int) -> String {
        prefix + String(format: "%06d", index)
    }
}

struct RegistrationFailed: Error, CustomStringConvertible {
    let description: String
}

/// One keep-alive HTTP/1.1 connection registering accounts one after the other.
struct Registrar: Sendable {
    let host: String
    let port: Int
    let password: String
    let group: any EventLoopGroup

    func register(_ names: [(Int, String)]) async throws -> [(Int, String)] {
        let channel = try await ClientBootstrap(group: group).connect(host: host, port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
            }
        }
        return try await channel.executeThenClose { inbound, outbound in
            var responses = inbound.makeAsyncIterator()
            var tokens: [(Int, String)] = []
            for (index, name) in names {
                let body = try JSONSerialization.data(withJSONObject: ["username": name, "password": password])
                var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/api/regChat")
                head.headers.add(name: "Host", value: "\(host):\(port)")
                head.headers.add(name: "Content-Type", value: "application/json")
                head.headers.add(name: "Content-Length", value: String(body.count))
                try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(ByteBuffer(bytes: body))), .end(nil)])

                var reply = ByteBuffer()
                reading: while let part = try await responses.next() {
                    switch part {
                    case .head: continue
                    case .body(var bytes): reply.writeBuffer(&bytes)
                    case .end: break reading
                    }
                }
                tokens.append((index, try Self.token(in: reply, for: name)))
            }
            return tokens
        }
    }

    /// `data.token` of `{"msg":"ok","data":{…,"token":"…"}}`.
    static func token(in reply: ByteBuffer, for name: String) throws -> String {
        let text = String(buffer: reply)
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              object["msg"] as? String == "ok",
              let data = object["data"] as? [String: Any],
              let token = data["token"] as? String, !token.isEmpty
        else { throw RegistrationFailed(description: "registering \(name): \(text.prefix(200))") }
        return token
    }
}
