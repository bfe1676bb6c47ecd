import Foundation
import MariaDB
import Model
@testable import Persister
import RedisClient
import Testing
import TestSupport

/// The streams sharded by partition (docs/streams.md, *Shards*): whatever the test run's
/// layout, these run the persisters with partitions (the run's, else four), on a Redis of
/// the test's own.
@Suite("persister run on sharded streams", .serialized, .offCooperativePool)
struct ShardedDrainTests {
    /// The run's layout when it has partitions, else four.
    static let keys = testKeys.layout.isTagged ? testKeys : RedisKeys(layout: KeyLayout(partitionTags: PartitionTags.evenlySpaced(count: 4)))

    @Test func everyShardsEntriesReachMariaDBOnceWithTwoPersistersAndOneKilledMidBatch() async throws {
        try await DrainFixture.with(prefix: "shards", keys: Self.keys) { fixture in
            let ids = try await fixture.addMessages(20_000)
            for id in 1...200 {
                try await fixture.addEntity("goodfriend", id: id, version: 1, row: BatchWriterTests.friendRow(id: id, nickname: "v1"))
                try await fixture.addEntity("goodfriend", id: id, version: 2, row: BatchWriterTests.friendRow(id: id, nickname: "v2"))
            }
            let partitions = fixture.keys.layout.partitions
            for shard in fixture.shards(StreamName.messages) {
                #expect(try await fixture.redis.send("XLEN", shard).integer == Int64(20_000 / partitions), "\(shard)")
            }
            #expect(try await fixture.redis.send("EXISTS", StreamName.messages).integer == 0, "no unsharded stream")

            let settings = ["PERSISTER_BATCH_SIZE": "200"]
            let one = try fixture.persister(settings)
            let two = try fixture.persister(settings)
            try await eventually(within: 60) { try fixture.count("SELECT COUNT(*) FROM message") > 2000 }
            one.signal(SIGKILL)
            #expect(one.waitForExit(timeout: 10) == 128 + SIGKILL)
            #expect(try fixture.count("SELECT COUNT(*) FROM message") < ids.count, "killed before the end")

            // The other claims what the dead one left pending (PERSISTER_CLAIM_IDLE_MS 1 s).
            try await eventually(within: 90) { try await fixture.holds(messages: ids.count) }
            #expect(try fixture.count("SELECT COUNT(DISTINCT id) FROM message") == ids.count)
            let friends = try fixture.database.connect().query("SELECT nickname, version, COUNT(*) FROM goodfriend GROUP BY nickname, version")
            #expect(friends.map(\.values) == [["v2", "2", "200"]])
            // Both read (the group and its consumers are per shard: Redis makes a consumer
            // where it was given entries).
            var readers = Set<String>()
            for shard in fixture.shards(StreamName.messages) {
                for consumer in try await fixture.redis.send("XINFO", "CONSUMERS", shard, "persister").array ?? [] {
                    if let name = consumer.fieldValues["name"] { readers.insert(name) }
                }
            }
            #expect(readers == [one.node, two.node])
            let read = try await fixture.persisterGroup(on: StreamName.messages)
            #expect(read["entries-read"] == String(ids.count) && read["pending"] == "0")

            let metrics = try #require(HTTPProbe.get(port: two.metricsPort, path: "/metrics")).body
            #expect(metrics.contains(#"persister_pending_entries{stream="chat:stream:messages"}"#), "per stream, summed over the shards")
            two.signal(SIGTERM)
            #expect(two.waitForExit(timeout: 20) == 0)
        }
    }

    /// An entry that keeps failing goes to the one dead-letter stream, named by its shard,
    /// and is acknowledged on its shard; the rest of the shards' entries are written.
    @Test func aPoisonEntryInAShardIsDeadLetteredOnce() async throws {
        try await DrainFixture.with(prefix: "shardpoison", keys: Self.keys) { fixture in
            _ = try await fixture.addMessages(40)
            try await fixture.addEntity("goodfriend", id: 3, version: 1, row: "{not json")
            let persister = try fixture.persister(["PERSISTER_MAX_ATTEMPTS": "2"])
            try await eventually(within: 30) {
                let letters = try await fixture.redis.send("XLEN", StreamName.deadLetters).integer
                let written = try await fixture.holds(messages: 40)
                return letters == 1 && written
            }
            let letter = try #require(try await fixture.redis.send("XRANGE", StreamName.deadLetters, "-", "+").array?.first?.array?.last?.fieldValues)
            #expect(letter["stream"] == fixture.shard(StreamName.entities, 3) && letter["field.id"] == "3" && letter["attempts"] == "2")
            let status = try Executables.run("persister", arguments: ["status"], environment: [
                "REDIS_URL": fixture.redisServer.url, "REDIS_PARTITIONS": String(fixture.keys.layout.partitions),
            ])
            for shard in fixture.keys.allStreamShards.flatMap(\.all) {
                #expect(status.output.contains("\(shard): "), "\(status.output)")
            }
            #expect(status.output.contains("dead letters (chat:stream:deadletter): 1"))
            persister.signal(SIGTERM)
            #expect(persister.waitForExit(timeout: 20) == 0)
        }
    }

    /// An idle persister notices an entry in any shard quickly: the round over the
    /// partitions after each short wait on one of them. And a SIGTERM while idle ends it
    /// without waiting for the poll.
    @Test func anEntryInAnyShardIsWrittenSoonWhileIdle() async throws {
        try await DrainFixture.with(prefix: "shardidle", keys: Self.keys) { fixture in
            let persister = try fixture.persister(["PERSISTER_POLL_MS": "5000"])
            try await eventually(within: 20) { HTTPProbe.get(port: persister.metricsPort, path: "/healthz")?.status == 200 }
            try await eventually(within: 20) { try await fixture.persisterGroup(on: StreamName.messages)["name"] == "persister" }
            fixture.redisServer.streamsAreWrittenByHand()
            for partition in 0..<fixture.keys.layout.partitions {
                let start = ContinuousClock.now
                let fields = DrainFixture.messageFields(id: "idle-\(partition)")
                try await fixture.redis.send(RedisCommand("XADD", [fixture.shard(StreamName.messages, partition), "*"] + fields.map { $0 as any RedisArgument })).throwingOnError()
                try await eventually(within: 10) { try fixture.count("SELECT COUNT(*) FROM message") == partition + 1 }
                // The poll (5 s) is not what an entry waits for: at most the shard wait
                // (50 ms) and the batch delay (50 ms), with room for a loaded machine.
                #expect(ContinuousClock.now - start < .milliseconds(2500), "partition \(partition)")
            }
            let stop = ContinuousClock.now
            persister.signal(SIGTERM)
            #expect(persister.waitForExit(timeout: 20) == 0)
            #expect(ContinuousClock.now - stop < .seconds(4), "within a shard wait, not the 5 s poll")
        }
    }

    /// `persister hydrate` on a tagged layout puts a user's and a group's keys in their
    /// partition (`chat:user:7{p3}`), none under the plain names; `persister verify` reads
    /// them there, and the same Redis read with the plain names differs.
    @Test func hydrateWritesEachUsersKeysInItsPartitionAndVerifyReadsThem() async throws {
        try await DrainFixture.with(prefix: "shardhydrate", keys: Self.keys) { fixture in
            fixture.redisServer.streamsAreWrittenByHand()
            let keys = fixture.keys
            try await fixture.redis.send(RedisCommand("XADD", [
                keys.streamShards(ofUser: 7).privateEntities, "*", "v", "1", "entity", "user", "op", "upsert", "id", "7", "version", "1",
                "row", #"{"id":7,"uuid":"u7","username":"seven","password":"$2b$04$hash7","nickname":"七","status":1}"#,
            ])).throwingOnError()
            for id in 1...3 {
                try await fixture.addEntity("goodfriend", id: id, version: 1, row: BatchWriterTests.friendRow(id: id, nickname: "f\(id)"))
            }
            let persister = try fixture.persister()
            try await eventually(within: 30) {
                try fixture.count("SELECT COUNT(*) FROM user") == 1 && (try fixture.count("SELECT COUNT(*) FROM goodfriend")) == 3
            }
            persister.signal(SIGTERM)
            #expect(persister.waitForExit(timeout: 20) == 0)

            try await fixture.redis.send("FLUSHALL").throwingOnError()
            let environment = [
                "REDIS_URL": fixture.redisServer.url, "MARIADB_URL": fixture.database.url,
                "REDIS_PARTITIONS": String(keys.layout.partitions),
            ]
            let hydrate = try Executables.run("persister", arguments: ["hydrate"], environment: environment)
            #expect(hydrate.status == 0, "\(hydrate.output)")
            #expect(keys.user(7) != RedisKeys.user(7))
            #expect(try await fixture.redis.send("HGET", keys.user(7), "username").string == "seven")
            #expect(try await fixture.redis.send("HLEN", keys.friends(1)).integer == 3)
            #expect(try await fixture.redis.send("EXISTS", RedisKeys.user(7), RedisKeys.friends(1)).integer == 0)
            #expect(try await fixture.redis.send("HGET", RedisKeys.meta, "partitions").string == String(keys.layout.partitions))

            let verify = try Executables.run("persister", arguments: ["verify"], environment: environment)
            #expect(verify.status == 0, "\(verify.output)")
            var plain = environment
            plain["REDIS_PARTITIONS"] = "plain"
            let differs = try Executables.run("persister", arguments: ["verify"], environment: plain)
            #expect(differs.status == 1 && differs.output.contains("chat:user:7"), "\(differs.output)")
        }
    }
}
