import Foundation
import Logging
import MariaDB
@testable import Persister
import RedisClient
import TestSupport

/// A test's own Redis and a migrated throwaway database.
struct DrainFixture: Sendable {
    let redisServer: RedisServerProcess
    let redis: RedisClient
    let database: MariaDBTestDatabase

    static func with<Result>(prefix: String, _ body: (DrainFixture) async throws -> Result) async throws -> Result {
        let server = try RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration.forTests(url: server.url))
        defer { _ = server }
        do {
            let result = try await MariaDBTestDatabase.with(prefix: prefix, create: false) { database in
                let connection = try database.connectToServer()
                _ = try Migrator(logger: MariaDBTestDatabase.logger).migrate(database: database.name, on: connection)
                return try await body(DrainFixture(redisServer: server, redis: redis, database: database))
            }
            await redis.shutdown()
            return result
        } catch {
            await redis.shutdown()
            throw error
        }
    }

    func persister(node: String = "p-\(UUID().uuidString.prefix(8))", _ settings: [String: String] = [:]) throws -> PersisterProcess {
        try PersisterProcess(redisURL: redisServer.url, mariaDBURL: database.url, node: node, settings: settings)
    }

    /// Appends a message entry as `message_send_single.lua` does.
    static func messageFields(id: String, from: Int = 1, to: Int = 2, text: String = "你好", time: Int64 = 1_700_000_000_000) -> [String] {
        [
            "v", "1", "kind", "message", "id", id, "chat_type", "single", "type", "text", "from_id", String(from),
            "to_id", String(to), "from_name", "甲", "from_avatar", "", "to_name", "乙", "to_avatar", "",
            "data", #"{"data":"\#(text)"}"#, "options", "{}", "create_time", String(time), "isremove", "0",
        ]
    }

    func addMessages(_ count: Int, prefix: String = UUID().uuidString.prefix(8).lowercased(), chunk: Int = 1000) async throws -> [String] {
        redisServer.streamsAreWrittenByHand()
        var ids: [String] = []
        var start = 0
        while start < count {
            let end = min(count, start + chunk)
            var commands: [RedisCommand] = []
            for index in start..<end {
                let id = "\(prefix)-\(String(format: "%08d", index))"
                ids.append(id)
                commands.append(RedisCommand("XADD", ["chat:stream:messages", "*"] + Self.messageFields(id: id, text: "m\(index)").map { $0 as any RedisArgument }))
            }
            for reply in try await redis.pipeline(commands) { try reply.throwingOnError() }
            start = end
        }
        return ids
    }

    func addEntity(_ entity: String, op: String = "upsert", id: Int, version: Int, row: String) async throws {
        redisServer.streamsAreWrittenByHand()
        try await redis.send(RedisCommand("XADD", [
            "chat:stream:entities", "*", "v", "1", "entity", entity, "op", op, "id", String(id), "version", String(version), "row", row,
        ])).throwingOnError()
    }

    func count(_ sql: String) throws -> Int {
        Int(try database.connect().query(sql).first?[0] ?? "0") ?? 0
    }

    /// The persister group's `XINFO GROUPS` fields on `stream` (integers as text).
    func persisterGroup(on stream: String) async throws -> [String: String] {
        let groups = try await redis.send("XINFO", "GROUPS", stream)
        for group in groups.array ?? [] {
            var fields: [String: String] = [:]
            let items = group.array ?? []
            for index in stride(from: 0, to: items.count - 1, by: 2) {
                guard let key = items[index].string else { continue }
                fields[key] = items[index + 1].string ?? items[index + 1].integer.map(String.init)
            }
            if fields["name"] == "persister" { return fields }
        }
        return [:]
    }

    /// Whether `message` holds `messages` rows and nothing is pending.
    func holds(messages: Int) async throws -> Bool {
        let rows = try count("SELECT COUNT(*) FROM message")
        let pending = try await pending()
        return rows == messages && pending == 0
    }

    /// Pending entries of the persister's group on its three streams.
    func pending() async throws -> Int {
        var total = 0
        for stream in ["chat:stream:messages", "chat:stream:entities", "chat:stream:private"] {
            let reply = try await redis.send("XPENDING", stream, "persister")
            total += Int(reply.array?.first?.integer ?? 0)
        }
        return total
    }
}
