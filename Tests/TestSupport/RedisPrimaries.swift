import Foundation
import RedisClient

/// What a test does to the whole shared Redis, on every primary of a cluster: `KEYS`,
/// `SCAN` and `FLUSHALL` reach one node only (the cluster client sends a keyless command
/// to whichever primary), so a test that looks for keys by pattern or flushes between
/// steps goes through these on the cluster phase of `make test` (docs/testing.md).
public enum RedisPrimaries {
    /// `redis://` URLs of the primaries behind `url` (a `redis-cluster://` one, as
    /// `CLUSTER NODES` of its first reachable node tells), or `url` itself for one Redis.
    public static func urls(of url: String) async throws -> [String] {
        guard url.hasPrefix("redis-cluster://") else { return [url] }
        var rest = url.dropFirst("redis-cluster://".count)
        var credentials = ""
        if let at = rest.lastIndex(of: "@") {
            credentials = String(rest[...at])
            rest = rest[rest.index(after: at)...]
        }
        var lastError: (any Error)?
        for seed in rest.split(separator: ",") {
            let client = RedisClient(configuration: try .forTests(url: "redis://\(credentials)\(seed)/0"))
            defer { Task { await client.shutdown() } }
            do {
                let nodes = try await client.send("CLUSTER", "NODES")
                let text = String(decoding: nodes.bytes ?? [], as: UTF8.self)
                return text.split(separator: "\n").compactMap { line -> String? in
                    let fields = line.split(separator: " ")
                    guard fields.count > 2, fields[2].contains("master"), !fields[2].contains("fail"),
                          let address = fields[1].split(separator: "@").first else { return nil }
                    return "redis://\(credentials)\(address)/0"
                }.sorted()
            } catch {
                lastError = error
            }
        }
        throw lastError ?? TestEnvironment.Missing(description: "no node of \(url) answered")
    }

    /// Runs `body` with a client of each primary in turn.
    public static func forEach(of url: String, _ body: (RedisClient) async throws -> Void) async throws {
        for primary in try await urls(of: url) {
            let client = RedisClient(configuration: try .forTests(url: primary))
            defer { Task { await client.shutdown() } }
            try await body(client)
        }
    }

    /// `KEYS pattern` over every primary.
    public static func keys(matching pattern: String, in url: String) async throws -> [String] {
        var found: [String] = []
        try await forEach(of: url) { client in
            found += (try await client.send("KEYS", pattern).array ?? []).compactMap(\.string)
        }
        return found.sorted()
    }

    /// `FLUSHALL` on every primary (their replicas follow).
    public static func flushAll(_ url: String) async throws {
        try await forEach(of: url) { client in
            let reply = try await client.send("FLUSHALL")
            guard reply == .status("OK") else { throw TestEnvironment.Missing(description: "FLUSHALL: \(reply)") }
        }
    }
}
