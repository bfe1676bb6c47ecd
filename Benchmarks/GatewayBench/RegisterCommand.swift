import ArgumentParser
import Foundation
import NIOCore
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
        let names = (0..<users).map(username)
        let accounts = try await Registrar(host: host, port: port, password: password, group: group)
            .register(names, concurrency: concurrency)
        let seconds = (clock.now - start).seconds
        let tokens = accounts.map(\.token)
        try Data((tokens.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: out))
        print(String(format: "registered=%d seconds=%.3f rate=%.0f", users, seconds, Double(users) / seconds))
        try await group.shutdownGracefully()
    }

    private func username(_ index: Int) -> String {
        prefix + String(format: "%06d", index)
    }
}

/// A registered account: its id and its token.
struct Account: Sendable {
    let id: Int
    let token: String
}

/// Registers accounts over keep-alive HTTP/1.1 connections, each one request after the
/// other.
struct Registrar: Sendable {
    let host: String
    let port: Int
    let password: String
    let group: any EventLoopGroup

    /// The accounts of `names`, in their order, over `concurrency` connections.
    func register(_ names: [String], concurrency: Int) async throws -> [Account] {
        var accounts = [Account?](repeating: nil, count: names.count)
        try await withThrowingTaskGroup(of: [(Int, Account)].self) { workers in
            for worker in 0..<min(concurrency, names.count) {
                let mine = stride(from: worker, to: names.count, by: concurrency).map { ($0, names[$0]) }
                workers.addTask { try await register(mine) }
            }
            for try await done in workers {
                for (index, account) in done { accounts[index] = account }
            }
        }
        return accounts.map { $0! }
    }

    private func register(_ names: [(Int, String)]) async throws -> [(Int, Account)] {
        try await HTTPSession.with(host: host, port: port, group: group) { session in
            var accounts: [(Int, Account)] = []
            for (index, name) in names {
                let reply = try await session.post("/api/regChat", json: ["username": name, "password": password])
                accounts.append((index, try Self.account(in: reply, for: name)))
            }
            return accounts
        }
    }

    /// `data.id` and `data.token` of `{"msg":"ok","data":{…,"id":…,"token":"…"}}`.
    static func account(in reply: String, for name: String) throws -> Account {
        guard let data = try HTTPSession.okData(reply, what: "registering \(name)") as? [String: Any],
              let id = (data["id"] as? NSNumber)?.intValue ?? (data["id"] as? String).flatMap({ Int($0) }),
              let token = data["token"] as? String, !token.isEmpty
        else { throw HTTPFailure(description: "registering \(name): no id and token in \(reply.prefix(200))") }
        return Account(id: id, token: token)
    }
}
