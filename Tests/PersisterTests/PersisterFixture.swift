import Foundation
import Logging
import MariaDB
import Model
@testable import Persister
import RedisClient
import TestSupport

/// A test's own Redis and a migrated throwaway database.
struct DrainFixture: Sendable {
    let redisServer: RedisServerProcess
    let redis: RedisClient
    let database: MariaDBTestDatabase
    /// The layout the persisters run with: the test run's (`REDIS_PARTITIONS`), or one a
    /// test chooses (passed to its persisters).
    var keys = testKeys

    static func with<Result>(
        prefix: String, keys: RedisKeys = testKeys, _ body: (DrainFixture) async throws -> Result
    ) async throws -> Result {
        let server = try RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration.forTests(url: server.url))
        defer { _ = server }
        do {
            let result = try await MariaDBTestDatabase.with(prefix: prefix, create: false) { database in
                let connection = try database.connectToServer()
                _ = try Migrator(logger: MariaDBTestDatabase.logger).migrate(database: database.name, on: connection)
                return try await body(DrainFixture(redisServer: server, redis: redis, database: database, keys: keys))
            }
            await redis.shutdown()
            return result
        } catch {
            await redis.shutdown()
            throw error
        }
    }

    func persister(node: String = "p-\(UUID().uuidString.prefix(8))", _ settings: [String: String] = [:]) throws -> PersisterProcess {
        var settings = settings
        if keys != testKeys { settings["REDIS_PARTITIONS"] = keys.layout.isTagged ? String(keys.layout.partitions) : "plain" }
        return try PersisterProcess(redisURL: redisServer.url, mariaDBURL: database.url, node: node, settings: settings)
    }

    /// Appends a message entry as `message_send_single.lua` does.
    static func messageFields(id: String, from: Int = 1, to: Int = 2, text: String = "你好", time: Int64 = 1_700_000_000_000) -> [String] {
        [
            "v", "1", "kind", "message", "id", id, "chat_type", "single", "type", "text", "from_id", String(from),
            "to_id", String(to), "from_name", "甲", "from_avatar", "", "to_name", "乙", "to_avatar", "",
            "data", #"{"data":"\#(text)"}"#, "options", "{}", "create_time", String(time), "isremove", "0",
        ]
    }

    /// The shard of `stream` an entry numbered `index` goes to: on a tagged layout
    /// (`REDIS_PARTITIONS`) the entries are dealt out over every partition's shard, as
    /// the scripts of several partitions would write them; plain: the stream itself.
    func shard(_ stream: String, _ index: Int) -> String {
        keys.stream(stream, partition: index % keys.layout.partitions)
    }

    /// Every shard of `stream` (the stream itself when plain).
    func shards(_ stream: String) -> [String] { keys.shards(of: stream) }

    /// Appends `count` message entries, dealt out over the shards (``shard(_:_:)``).
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
                commands.append(RedisCommand("XADD", [shard(StreamName.messages, index), "*"] + Self.messageFields(id: id, text: "m\(index)").map { $0 as any RedisArgument }))
            }
            for reply in try await redis.pipeline(commands) { try reply.throwingOnError() }
            start = end
        }
        return ids
    }

    /// Appends an entity entry to the shard of the partition of `id` (all versions of a
    /// row in one shard, as the one partition that owns it writes them).
    func addEntity(_ entity: String, op: String = "upsert", id: Int, version: Int, row: String) async throws {
        redisServer.streamsAreWrittenByHand()
        try await redis.send(RedisCommand("XADD", [
            shard(StreamName.entities, id), "*", "v", "1", "entity", entity, "op", op, "id", String(id), "version", String(version), "row", row,
        ])).throwingOnError()
    }

    func count(_ sql: String) throws -> Int {
        Int(try database.connect().query(sql).first?[0] ?? "0") ?? 0
    }

    /// The persister group's `XINFO GROUPS` fields on `stream` (integers as text); on a
    /// tagged layout its counts (`entries-read`, `pending`) summed over the shards.
    func persisterGroup(on stream: String) async throws -> [String: String] {
        var total: [String: String] = [:]
        for shard in shards(stream) {
            let fields = try await persisterGroup(onShard: shard)
            guard !fields.isEmpty else { return [:] }
            for key in ["entries-read", "pending"] {
                total[key] = String((Int(total[key] ?? "0") ?? 0) + (Int(fields[key] ?? "0") ?? 0))
            }
            total["name"] = fields["name"]
        }
        return total
    }

    /// The persister group's `XINFO GROUPS` fields on one shard.
    func persisterGroup(onShard shard: String) async throws -> [String: String] {
        let groups = try await redis.send("XINFO", "GROUPS", shard)
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

    /// Whether the persister's group has read every entry of its three streams, every
    /// shard, and acknowledged it. A shard's `lag` and `pending` come from one `XINFO
    /// GROUPS`, at one instant: `pending()` read before the persister's first read is 0
    /// too, and a test that checked it before `entries-read` took entries in flight for
    /// entries written.
    func drained() async throws -> Bool {
        for shard in keys.allStreamShards.flatMap(\.all) {
            let group = try await persisterGroup(onShard: shard)
            guard group["lag"] == "0", group["pending"] == "0" else { return false }
        }
        return true
    }

    /// The persister's `/metrics` once it shows every one of `lines` (the body as it is
    /// after 5 s otherwise): the counters move just after the XACK's reply, so a test that
    /// saw the entries acknowledged may ask a moment early.
    func metrics(of persister: PersisterProcess, showing lines: String...) async -> String {
        var body = ""
        _ = try? await eventually(within: 5) {
            body = HTTPProbe.get(port: persister.metricsPort, path: "/metrics")?.body ?? body
            return lines.allSatisfy(body.contains)
        }
        return body
    }

    /// Pending entries of the persister's group on its three streams, every shard.
    func pending() async throws -> Int {
        var total = 0
        for stream in keys.allStreamShards.flatMap(\.all) {
            let reply = try await redis.send("XPENDING", stream, "persister")
            total += Int(reply.array?.first?.integer ?? 0)
        }
        return total
    }
}
