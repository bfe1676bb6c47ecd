import ChatRuntime
import Foundation
import Model
import RedisClient
import TestSupport
import Testing

/// `KeyLayoutCheck`: the first process records its key layout in `chat:meta`; a process
/// started with another one exits 78 with a line naming both, before it serves anything
/// (two layouts on one Redis would each see half the data).
@Suite("Key layout check", .offCooperativePool)
struct KeyLayoutCheckTests {
    static func refusal(_ executable: String, recorded: String, mine: String) -> String {
        "\(executable): this Redis holds keys in the layout '\(recorded)' (chat:meta partitions) and this process was started with '\(mine)' (--redis-partitions, env REDIS_PARTITIONS)."
    }

    func recorded(_ redis: RedisServerProcess) async throws -> RedisReply {
        let client = RedisClient(configuration: try .forTests(url: redis.url))
        defer { Task { await client.shutdown() } }
        return try await client.send("HGET", RedisKeys.meta, "partitions")
    }

    @Test("a bridge on a Redis recorded plain by the first process: REDIS_PARTITIONS=4 exits 78 with its message, plain starts",
          .timeLimit(.minutes(1)))
    func partitionedRefusedOnPlain() async throws {
        let redis = try RedisServerProcess()
        #expect(try await recorded(redis) == .null)
        let first = try await BridgeProcess(redisURL: redis.url, settings: ["REDIS_PARTITIONS": "plain"])
        #expect(try await recorded(redis) == .bulk(Array("plain".utf8)), "the first process records its layout")

        let environment = [
            "REDIS_URL": redis.url, "BRIDGE_PORT": "\(try FreePort.next())", "BRIDGE_METRICS_PORT": "0",
            "JWT_SECRET": BridgeProcess.secret, "REDIS_PARTITIONS": "4",
            "PERSISTER_METRICS_PORT": "0", "MARIADB_URL": try TestEnvironment.mariaDBURL(),
        ]
        let bridge = try Executables.run("bridge", arguments: [], environment: environment)
        #expect(bridge.status == 78)
        #expect(bridge.output.contains(Self.refusal("bridge", recorded: "plain", mine: "4")), "\(bridge.output)")
        #expect(bridge.output.contains("rebuilding Redis from MariaDB"), "\(bridge.output)")
        // The flag comes before the variable.
        let byFlag = try Executables.run("bridge", arguments: ["--redis-partitions", "12"], environment: environment)
        #expect(byFlag.status == 78)
        #expect(byFlag.output.contains(Self.refusal("bridge", recorded: "plain", mine: "12")), "\(byFlag.output)")
        let persister = try Executables.run("persister", arguments: ["run"], environment: environment)
        #expect(persister.status == 78)
        #expect(persister.output.contains(Self.refusal("persister run", recorded: "plain", mine: "4")), "\(persister.output)")
        // The record is not changed by a refused process; one that agrees starts beside the first.
        #expect(try await recorded(redis) == .bulk(Array("plain".utf8)))
        let second = try await BridgeProcess(redisURL: redis.url, settings: ["REDIS_PARTITIONS": "plain"])
        #expect(second.waitForExit(timeout: 1) == nil && first.waitForExit(timeout: 0.1) == nil)
    }

    @Test("a Redis recorded '4' by the first process: a plain bridge exits 78, one with 4 starts", .timeLimit(.minutes(1)))
    func plainRefusedOnPartitioned() async throws {
        let redis = try RedisServerProcess()
        let first = try await BridgeProcess(redisURL: redis.url, settings: ["REDIS_PARTITIONS": "4"])
        #expect(try await recorded(redis) == .bulk(Array("4".utf8)))
        let plain = try Executables.run("bridge", arguments: [], environment: [
            "REDIS_URL": redis.url, "BRIDGE_PORT": "\(try FreePort.next())", "BRIDGE_METRICS_PORT": "0",
            "JWT_SECRET": BridgeProcess.secret, "REDIS_PARTITIONS": "plain",
        ])
        #expect(plain.status == 78)
        #expect(plain.output.contains(Self.refusal("bridge", recorded: "4", mine: "plain")), "\(plain.output)")
        let other = try Executables.run("bridge", arguments: [], environment: [
            "REDIS_URL": redis.url, "BRIDGE_PORT": "\(try FreePort.next())", "BRIDGE_METRICS_PORT": "0",
            "JWT_SECRET": BridgeProcess.secret, "REDIS_PARTITIONS": "5",
        ])
        #expect(other.status == 78)
        #expect(other.output.contains(Self.refusal("bridge", recorded: "4", mine: "5")), "\(other.output)")
        let second = try await BridgeProcess(redisURL: redis.url, settings: ["REDIS_PARTITIONS": "4"])
        #expect(second.waitForExit(timeout: 1) == nil && first.waitForExit(timeout: 0.1) == nil)
    }

    @Test("read: HSETNX records the first layout only, its tags beside it; agrees or names the recorded one")
    func read() async throws {
        let redis = try RedisServerProcess()
        let client = RedisClient(configuration: try .forTests(url: redis.url))
        defer { Task { await client.shutdown() } }
        let four = RedisKeys(layout: KeyLayout(partitionTags: PartitionTags.evenlySpaced(count: 4)))
        #expect(KeyLayoutCheck.recordedValue(of: .plain) == "plain")
        #expect(KeyLayoutCheck.recordedValue(of: four.layout) == "4")
        #expect(await KeyLayoutCheck.read(redis: client, keys: four) == .agrees)
        #expect(await KeyLayoutCheck.read(redis: client, keys: .plain) == .differs(recorded: "4"))
        #expect(await KeyLayoutCheck.read(redis: client, keys: four) == .agrees)
        // The tags in order, as docs/streams.md *Shards* names them (its Python gives the same).
        let tags = PartitionTags.evenlySpaced(count: 4)
        #expect(KeyLayoutCheck.recordedTags(of: four.layout) == tags.joined(separator: ","))
        #expect(KeyLayoutCheck.recordedTags(of: four.layout) == "p0.1,p1.3,p2.1,p3.3")
        #expect(KeyLayoutCheck.recordedTags(of: .plain) == nil)
        #expect(try await client.send("HGETALL", RedisKeys.meta) == .array([
            .bulk(Array("partitions".utf8)), .bulk(Array("4".utf8)), .bulk(Array("tags".utf8)), .bulk(Array("p0.1,p1.3,p2.1,p3.3".utf8)),
        ]))
        // Every shard name from the record alone is the layout's own.
        #expect(tags.map { "chat:stream:messages{\($0)}" } == four.shards(of: StreamName.messages))

        // A deployment recorded before `tags` existed gets them from the first process that
        // agrees; a plain Redis never has the field; other tags for the same count are refused.
        _ = try await client.send("HDEL", RedisKeys.meta, "tags")
        #expect(await KeyLayoutCheck.read(redis: client, keys: four) == .agrees)
        #expect(try await client.send("HGET", RedisKeys.meta, "tags").string == "p0.1,p1.3,p2.1,p3.3")
        _ = try await client.send("HSET", RedisKeys.meta, "tags", "p0,p1,p2,p3")
        #expect(await KeyLayoutCheck.read(redis: client, keys: four) == .differentTags(recorded: "p0,p1,p2,p3"))
        _ = try await client.send("DEL", RedisKeys.meta)
        #expect(await KeyLayoutCheck.read(redis: client, keys: .plain) == .agrees)
        #expect(try await client.send("HGETALL", RedisKeys.meta) == .array([.bulk(Array("partitions".utf8)), .bulk(Array("plain".utf8))]))
        // A process of another count never records its tags beside the recorded count.
        #expect(await KeyLayoutCheck.read(redis: client, keys: four) == .differs(recorded: "plain"))
        #expect(try await client.send("HEXISTS", RedisKeys.meta, "tags") == .integer(0))
    }

    @Test("testKeys is the run's layout as the processes resolve it; a spawned process on a single Redis gets it said out loud")
    func theRunsLayout() throws {
        let environment = ProcessInfo.processInfo.environment
        let url = try TestEnvironment.redisURL()
        let expected = environment["REDIS_PARTITIONS"] ?? (url.hasPrefix("redis-cluster://") ? "12" : "plain")
        #expect(KeyLayoutCheck.recordedValue(of: testKeys.layout) == expected)
        #expect(withTestLayout(["REDIS_URL": "redis://127.0.0.1:1/0"])["REDIS_PARTITIONS"] == expected)
        #expect(withTestLayout(["REDIS_URL": "redis://127.0.0.1:1/0", "REDIS_PARTITIONS": "7"])["REDIS_PARTITIONS"] == "7")
        #expect(withTestLayout(["REDIS_URL": "redis-cluster://127.0.0.1:1"])["REDIS_PARTITIONS"] == nil)
    }
}
