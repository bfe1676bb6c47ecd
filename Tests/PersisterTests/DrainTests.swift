import Foundation
import MariaDB
import Model
@testable import Persister
import RedisClient
import Testing
import TestSupport

/// `persister run` as a real process against a Redis of the test's own and a throwaway
/// database: crashes, poison entries, several consumers, shutdown.
@Suite("persister run", .serialized, .offCooperativePool)
struct DrainTests {
    @Test func drainsABacklogAndSurvivesSIGKILLInTheMiddleOfABatch() async throws {
        try await DrainFixture.with(prefix: "kill") { fixture in
            let ids = try await fixture.addMessages(30_000)
            try await fixture.addEntity("goodfriend", id: 1, version: 1, row: BatchWriterTests.friendRow(id: 1, nickname: "x"))
            let first = try fixture.persister(["PERSISTER_BATCH_SIZE": "500"])
            try await eventually(within: 60) { try fixture.count("SELECT COUNT(*) FROM message") > 0 }
            first.signal(SIGKILL)
            #expect(first.waitForExit(timeout: 10) == 128 + SIGKILL)
            let written = try fixture.count("SELECT COUNT(*) FROM message")
            #expect(written < ids.count, "killed before the end (\(written) rows)")
            #expect(try await fixture.pending() > 0 || written == 0, "the killed consumer left entries pending")

            // A new consumer claims what the dead one left and reads the rest.
            let second = try fixture.persister(["PERSISTER_BATCH_SIZE": "500"])
            try await eventually(within: 90) {
                try await fixture.holds(messages: ids.count)
            }
            #expect(try fixture.count("SELECT COUNT(DISTINCT id) FROM message") == ids.count)
            #expect(try fixture.count("SELECT COUNT(*) FROM goodfriend") == 1)
            let sample = try #require(try fixture.database.connect().query("SELECT data, from_id, to_id, create_time FROM message WHERE id = '\(ids[12345])'").first)
            #expect(sample.values == [#"{"data":"m12345"}"#, "1", "2", "1700000000000"])
            second.signal(SIGTERM)
            #expect(second.waitForExit(timeout: 20) == 0)
        }
    }

    /// `--batch-bytes`: 40 entries of ~90 KB with a 300 KB budget and room for 2000 entries
    /// per batch are written in many small batches, none far over the budget, each entry
    /// once.
    @Test func batchesStopAtTheByteBudget() async throws {
        try await DrainFixture.with(prefix: "bytes") { fixture in
            fixture.redisServer.streamsAreWrittenByHand()
            let text = String(repeating: "字", count: 30_000)
            var commands: [RedisCommand] = []
            for index in 0..<40 {
                let fields = DrainFixture.messageFields(id: "big-\(index)", text: "\(index)-\(text)")
                commands.append(RedisCommand("XADD", [fixture.shard(StreamName.messages, index), "*"] + fields.map { $0 as any RedisArgument }))
            }
            for reply in try await fixture.redis.pipeline(commands) { try reply.throwingOnError() }
            let persister = try fixture.persister(["PERSISTER_BATCH_BYTES": "300000", "PERSISTER_BATCH_SIZE": "2000"])
            try await eventually(within: 60) { try await fixture.holds(messages: 40) }
            #expect(try fixture.count("SELECT COUNT(DISTINCT id) FROM message WHERE LENGTH(data) > 90000") == 40)

            let metrics = await fixture.metrics(of: persister, showing: #"persister_entries_total{stream="chat:stream:messages"} 40"#)
            func value(_ name: String) -> Double? {
                metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
            }
            // each entry written and acknowledged once
            #expect(value(#"persister_entries_total{stream="chat:stream:messages"}"#) == 40)
            // 40 × 90 KB over a 300 KB budget: at least 12 batches, none over twice the budget
            let batches = try #require(value("persister_batch_bytes_count"))
            #expect(batches >= 12, "\(batches) batches")
            #expect(value(#"persister_batch_bytes_bucket{le="600000.0"}"#) == batches, "\(metrics)")
            #expect(value("persister_batch_size_count") == batches)
            persister.signal(SIGTERM)
            #expect(persister.waitForExit(timeout: 20) == 0)
        }
    }

    @Test func aPoisonEntryEndsInTheDeadLetterStreamAndTheRestIsWritten() async throws {
        try await DrainFixture.with(prefix: "poison") { fixture in
            _ = try await fixture.addMessages(10, prefix: "before")
            try await fixture.addEntity("goodfriend", id: 3, version: 1, row: "{this is not json")
            try await fixture.addEntity("goodfriend", id: 4, version: 1, row: BatchWriterTests.friendRow(id: 4, nickname: String(repeating: "长", count: 51)))
            try await fixture.addEntity("goodfriend", id: 5, version: 1, row: BatchWriterTests.friendRow(id: 5, nickname: "ok"))
            _ = try await fixture.addMessages(10, prefix: "after")
            let persister = try fixture.persister(["PERSISTER_MAX_ATTEMPTS": "3"])
            try await eventually(within: 30) {
                let letters = try await fixture.redis.send("XLEN", "chat:stream:deadletter").integer
                guard letters == 2 else { return false }
                return try await fixture.drained()
            }
            #expect(try fixture.count("SELECT COUNT(*) FROM message") == 20)
            #expect(try fixture.count("SELECT COUNT(*) FROM goodfriend") == 1)
            let letters = try await fixture.redis.send("XRANGE", "chat:stream:deadletter", "-", "+")
            let fields = (letters.array ?? []).compactMap { $0.array?.last?.fieldValues }
            #expect(fields.map { $0["field.id"] } == ["3", "4"])
            #expect(fields[0]["error"]?.contains("row") == true && fields[0]["attempts"] == "3" && fields[0]["stream"] == fixture.shard(StreamName.entities, 3))
            #expect(fields[1]["error"]?.contains("nickname") == true, "MariaDB's reason: \(fields[1]["error"] ?? "")")
            #expect(fields[1]["field.row"]?.contains("长") == true, "the entry itself is kept")

            // status shows it, as text and as JSON.
            let status = try Executables.run("persister", arguments: ["status", "--json"], environment: ["REDIS_URL": fixture.redisServer.url])
            #expect(status.status == 0)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(status.output.utf8)) as? [String: Any])
            #expect(json["dead_letters"] as? Int == 2)
            let streams = try #require(json["streams"] as? [[String: Any]])
            #expect(streams.map { $0["stream"] as? String } == fixture.keys.allStreamShards.flatMap(\.all))
            let groups = try #require(streams[1]["groups"] as? [[String: Any]])
            #expect(groups.first?["name"] as? String == "persister" && groups.first?["pending"] as? Int == 0)
            let text = try Executables.run("persister", arguments: ["status"], environment: ["REDIS_URL": fixture.redisServer.url])
            // Twice messages 0 to 9, dealt out over the shards.
            let first = (0..<10).filter { $0 % fixture.keys.layout.partitions == 0 }.count * 2
            #expect(text.output.contains("\(fixture.shard(StreamName.messages, 0)): \(first) entries"), "\(text.output)")
            #expect(text.output.contains("dead letters (chat:stream:deadletter): 2"))

            // /metrics counts them.
            let written = #"persister_entries_total{stream="chat:stream:messages"} 20"#
            let metrics = await fixture.metrics(of: persister, showing: "persister_dead_letters_total 2", written)
            #expect(metrics.contains("persister_dead_letters_total 2"))
            #expect(metrics.contains(written))
            #expect(metrics.contains("persister_commit_seconds_bucket") && metrics.contains("persister_batch_size_bucket"))
            #expect(metrics.contains("persister_lag_seconds"))
            persister.signal(SIGTERM)
            #expect(persister.waitForExit(timeout: 20) == 0)
        }
    }

    @Test func twoPersistersInOneGroupWriteWhatOneWrites() async throws {
        try await DrainFixture.with(prefix: "two") { fixture in
            let ids = try await fixture.addMessages(20_000)
            for id in 1...200 {
                try await fixture.addEntity("goodfriend", id: id, version: 1, row: BatchWriterTests.friendRow(id: id, nickname: "v1"))
                try await fixture.addEntity("goodfriend", id: id, version: 2, row: BatchWriterTests.friendRow(id: id, nickname: "v2"))
            }
            let settings = ["PERSISTER_BATCH_SIZE": "200"]
            let one = try fixture.persister(settings)
            let two = try fixture.persister(settings)
            try await eventually(within: 90) {
                try await fixture.holds(messages: ids.count)
            }
            try await eventually(within: 30) {
                let group = try await fixture.persisterGroup(on: "chat:stream:entities")
                return group["entries-read"] == "400" && group["pending"] == "0"
            }
            let friends = try fixture.database.connect().query("SELECT nickname, version, COUNT(*) FROM goodfriend GROUP BY nickname, version")
            #expect(friends.map(\.values) == [["v2", "2", "200"]])
            let consumers = try await fixture.redis.send("XINFO", "CONSUMERS", fixture.shard(StreamName.messages, 0), "persister")
            #expect(consumers.array?.count == 2)
            one.signal(SIGTERM)
            two.signal(SIGTERM)
            #expect(one.waitForExit(timeout: 20) == 0)
            #expect(two.waitForExit(timeout: 20) == 0)
        }
    }

    @Test func sigtermFinishesTheBatchInHandAndExitsZero() async throws {
        try await DrainFixture.with(prefix: "term") { fixture in
            let persister = try fixture.persister(["PERSISTER_BATCH_SIZE": "1000", "PERSISTER_BATCH_DELAY_MS": "0"])
            try await eventually(within: 20) { HTTPProbe.get(port: persister.metricsPort, path: "/healthz")?.status == 200 }
            _ = try await fixture.addMessages(5000)
            try await eventually(within: 30) { try fixture.count("SELECT COUNT(*) FROM message") > 0 }
            persister.signal(SIGTERM)
            #expect(persister.waitForExit(timeout: 20) == 0)
            // Whatever it read, it wrote and acknowledged: nothing pending, no partial batch.
            #expect(try await fixture.pending() == 0)
            let written = try fixture.count("SELECT COUNT(*) FROM message")
            let read = try await fixture.persisterGroup(on: "chat:stream:messages")["entries-read"]
            #expect(read.flatMap { Int($0) } == written)
        }
    }

    @Test func mariaDBRestartedUnderLoadLosesNothing() async throws {
        let server = try MariaDBServerProcess()
        let redisServer = try RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration.forTests(url: redisServer.url))
        defer { _ = (server, redisServer) }
        let url = server.url(database: "chat")
        let migrate = try Executables.run("persister", arguments: ["migrate"], environment: ["MARIADB_URL": url])
        #expect(migrate.status == 0, "\(migrate.output)")
        let fixture = DrainFixture(
            redisServer: redisServer, redis: redis,
            database: try MariaDBTestDatabase.external(url: url)
        )
        let persister = try PersisterProcess(redisURL: redisServer.url, mariaDBURL: url, settings: ["PERSISTER_BATCH_SIZE": "300"])
        // A steady stream of messages while MariaDB goes down and comes back twice.
        let writer = Task {
            var all: [String] = []
            for round in 0..<40 {
                all += try await fixture.addMessages(500, prefix: "r\(round)")
                try await Task.sleep(for: .milliseconds(100))
            }
            return all
        }
        for _ in 0..<2 {
            try await Task.sleep(for: .seconds(1))
            server.stop()
            try await Task.sleep(for: .seconds(1))
            try server.start()
        }
        let ids = try await writer.value
        try await eventually(within: 120) {
            try await fixture.holds(messages: ids.count)
        }
        #expect(try fixture.count("SELECT COUNT(DISTINCT id) FROM message") == ids.count)
        #expect(persister.log.contains("MariaDB unavailable"), "the outage was noticed")
        persister.signal(SIGTERM)
        #expect(persister.waitForExit(timeout: 20) == 0)
        await redis.shutdown()
    }

    @Test func trimmingKeepsWhatAGroupStillNeeds() async throws {
        try await DrainFixture.with(prefix: "trim") { fixture in
            _ = try await fixture.addMessages(1000)
            // An analytics group that has read nothing: nothing may be trimmed.
            let shards = fixture.shards(StreamName.messages)
            for shard in shards {
                try await fixture.redis.send("XGROUP", "CREATE", shard, "analytics", "0").throwingOnError()
            }
            let persister = try fixture.persister(["PERSISTER_TRIM_INTERVAL_MS": "200"])
            try await eventually(within: 30) { try fixture.count("SELECT COUNT(*) FROM message") == 1000 }
            try await Task.sleep(for: .seconds(1))
            let lengths = shards.indices.map { k in Int64((0..<1000).filter { $0 % shards.count == k }.count) }
            for (shard, length) in zip(shards, lengths) { #expect(try await fixture.redis.send("XLEN", shard).integer == length) }
            let each = lengths[0]
            // Analytics reads and acknowledges 60 % of the first shard: those may go, not more,
            // and nothing of the other shards.
            let read = try await fixture.redis.send("XREADGROUP", "GROUP", "analytics", "a1", "COUNT", String(each * 6 / 10), "STREAMS", shards[0], ">")
            let entryIDs = (read.array?.first?.array?[1].array ?? []).compactMap { $0.array?.first?.string }
            try await fixture.redis.send(RedisCommand("XACK", [shards[0], "analytics"] + entryIDs.map { $0 as any RedisArgument })).throwingOnError()
            try await eventually(within: 10) { try await fixture.redis.send("XLEN", shards[0]).integer == each - each * 6 / 10 }
            for (shard, length) in zip(shards, lengths).dropFirst() { #expect(try await fixture.redis.send("XLEN", shard).integer == length) }
            persister.signal(SIGTERM)
            #expect(persister.waitForExit(timeout: 20) == 0)
        }
    }

    /// A backlog is written two full batches at a time on two connections: a revoke in
    /// the batch after its message's (both in flight) waits for that row, one in the batch
    /// before leaves a placeholder the message fills; a deadlock between the two batches
    /// is retried. Whatever order they commit in: every message once, the revoked ones
    /// flagged, no placeholder left, every byte of the values as sent.
    @Test func revokesAndMessagesInBatchesWrittenSideBySide() async throws {
        try await DrainFixture.with(prefix: "overlap") { fixture in
            fixture.redisServer.streamsAreWrittenByHand()
            let count = 6000
            func id(_ index: Int) -> String { "ov-\(String(format: "%05d", index))" }
            let awkward = "it's \\ \"q\" \n\r\u{0}\u{1A} 😀 含"
            var entries: [[String]] = []
            var revoked = Set<String>()
            for index in 0..<count {
                let text = index % 97 == 0 ? awkward : "m\(index)"
                entries.append(DrainFixture.messageFields(id: id(index), text: text))
                guard index % 5 == 0 else { continue }
                revoked.insert(id(index))
                var revoke = DrainFixture.messageFields(id: id(index), text: "撤回")
                revoke[3] = "revoke"
                revoke[revoke.count - 1] = "1"
                // Every other one 300 entries before its message (a placeholder first), the
                // rest 300 after it (the next batch, in flight beside the message's).
                if index % 10 == 0 {
                    entries.insert(revoke, at: max(0, entries.count - 300))
                } else {
                    entries.append(revoke)
                }
            }
            // Tagged: dealt out over the shards, so a revoke and its message may be in two.
            for chunk in stride(from: 0, to: entries.count, by: 1000) {
                let commands = (chunk..<min(entries.count, chunk + 1000)).map { position in
                    RedisCommand("XADD", [fixture.shard(StreamName.messages, position), "*"] + entries[position].map { $0 as any RedisArgument })
                }
                for reply in try await fixture.redis.pipeline(commands) { try reply.throwingOnError() }
            }
            let persister = try fixture.persister(["PERSISTER_BATCH_SIZE": "500"])
            try await eventually(within: 90) { try await fixture.holds(messages: count) }
            let database = try fixture.database.connect()
            let flagged = Set(try database.query("SELECT id FROM message WHERE isremove = 1").compactMap { $0[0] })
            #expect(flagged == revoked)
            #expect(try fixture.count("SELECT COUNT(*) FROM message WHERE version <> 1") == 0, "no placeholder left")
            let rows = try database.query("SELECT id, type, data FROM message WHERE id IN ('\(id(0))', '\(id(97))', '\(id(10))', '\(id(15))', '\(id(16))') ORDER BY id")
            #expect(rows.map(\.values) == [
                [id(0), "text", #"{"data":"\#(awkward)"}"#],
                [id(10), "text", #"{"data":"m10"}"#],
                [id(15), "text", #"{"data":"m15"}"#],
                [id(16), "text", #"{"data":"m16"}"#],
                [id(97), "text", #"{"data":"\#(awkward)"}"#],
            ])
            let written = #"persister_entries_total{stream="chat:stream:messages"} \#(entries.count)"#
            #expect(await fixture.metrics(of: persister, showing: written).contains(written))
            persister.signal(SIGTERM)
            #expect(persister.waitForExit(timeout: 20) == 0)
        }
    }

    /// docs/architecture.md, *Streams*: a `user` row is written from `chat:stream:private`;
    /// its public copy (`v` 2) is acknowledged and not written, while a `v` 1 `user` event
    /// on the public stream (a bridge from before the private stream) is written.
    @Test func userRowsAreWrittenFromThePrivateStream() async throws {
        try await DrainFixture.with(prefix: "private") { fixture in
            fixture.redisServer.streamsAreWrittenByHand()
            // A user's entries in the shards of the user's partition, as its scripts write them.
            func add(_ stream: String, v: String, id: Int, version: Int, row: String) async throws {
                try await fixture.redis.send(RedisCommand("XADD", [
                    fixture.shard(stream, id), "*", "v", v, "entity", "user", "op", "upsert", "id", String(id), "version", String(version), "row", row,
                ])).throwingOnError()
            }
            // 7: the public copy first (it is read first), then the whole row, one version.
            try await add("chat:stream:entities", v: "2", id: 7, version: 1, row: #"{"id":7,"uuid":"u7","username":"seven","nickname":"public copy","status":1}"#)
            try await add("chat:stream:private", v: "1", id: 7, version: 1, row: #"{"id":7,"uuid":"u7","username":"seven","password":"$2b$04$hash7","nickname":"whole row","email":"seven@example.cn","status":1}"#)
            // 8: a public copy whose whole row never came: nothing is written.
            try await add("chat:stream:entities", v: "2", id: 8, version: 1, row: #"{"id":8,"uuid":"u8","username":"eight","status":1}"#)
            // 9: an older bridge's event, the whole row on the public stream.
            try await add("chat:stream:entities", v: "1", id: 9, version: 1, row: #"{"id":9,"uuid":"u9","username":"nine","password":"$2b$04$hash9","status":1}"#)
            // 7 again, a newer version on the private stream only.
            try await add("chat:stream:private", v: "1", id: 7, version: 2, row: #"{"id":7,"uuid":"u7","username":"seven","password":"$2b$04$newer7","nickname":"whole row","email":"seven@example.cn","status":1}"#)
            let persister = try fixture.persister()
            try await eventually(within: 30) { try await fixture.drained() }
            #expect(try await fixture.persisterGroup(on: "chat:stream:private")["entries-read"] == "2")
            #expect(try await fixture.persisterGroup(on: "chat:stream:entities")["entries-read"] == "3")
            let rows = try fixture.database.connect().query("SELECT id, password, nickname, email, version FROM user ORDER BY id")
            #expect(rows.map(\.values) == [
                ["7", "$2b$04$newer7", "whole row", "seven@example.cn", "2"],
                ["9", "$2b$04$hash9", "", nil, "1"],
            ], "persister log:\n\(persister.log)")
            #expect(try await fixture.redis.send("XLEN", "chat:stream:deadletter").integer == 0)
            let private2 = #"persister_entries_total{stream="chat:stream:private"} 2"#
            let entities3 = #"persister_entries_total{stream="chat:stream:entities"} 3"#
            let metrics = await fixture.metrics(of: persister, showing: private2, entities3)
            #expect(metrics.contains(private2), "\(metrics)")
            #expect(metrics.contains(entities3), "the copies are acknowledged")
            persister.signal(SIGTERM)
            #expect(persister.waitForExit(timeout: 20) == 0)
        }
    }
}
