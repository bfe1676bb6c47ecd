import ChatRuntime
import Foundation
import MariaDB
import Model
@testable import Persister
import RedisClient
import Testing
import TestSupport

/// `persister run` against a real Redis Cluster (three primaries, one replica each): the
/// default 12 partitions, their shards on all three primaries, drained by two persisters,
/// with a primary failing over to its replica in the middle.
@Suite("persister run on a Redis Cluster", .serialized, .offCooperativePool)
struct ClusterDrainTests {
    @Test(.timeLimit(.minutes(4)))
    func everyShardOnEveryPrimaryIsDrainedOnceThroughAFailover() async throws {
        let cluster = try RedisClusterProcess()
        var configuration = try RedisConfiguration(url: cluster.url)
        configuration.commandTimeout = .seconds(10)
        let redis = RedisClient(configuration: configuration)
        defer { Task { await redis.shutdown() } }
        // What the processes resolve from a redis-cluster:// URL alone (the run's
        // REDIS_PARTITIONS is not passed on: the cluster's default here).
        let keys = try CommonOptions.parse([]).resolve(environment: ["REDIS_URL": cluster.url]).keys
        #expect(keys.layout.partitions == CommonOptions.defaultClusterPartitions)
        let partitions = String(keys.layout.partitions)

        try await MariaDBTestDatabase.with(prefix: "cluster", create: false) { database in
            let connection = try database.connectToServer()
            _ = try Migrator(logger: MariaDBTestDatabase.logger).migrate(database: database.name, on: connection)

            // The shards are spread over the three primaries, four each.
            let shards = keys.shards(of: StreamName.messages)
            var perPrimary: [Int: Int] = [:]
            for shard in shards { perPrimary[try cluster.primary(ofSlot: Int(HashSlot(key: shard).rawValue)), default: 0] += 1 }
            #expect(perPrimary.count == 3 && perPrimary.values.allSatisfy { $0 == 4 }, "\(perPrimary)")

            let count = 12_000
            var commands: [RedisCommand] = []
            for index in 0..<count {
                let fields = DrainFixture.messageFields(id: "cl-\(index)", text: "m\(index)")
                commands.append(RedisCommand("XADD", [shards[index % shards.count], "*"] + fields.map { $0 as any RedisArgument }))
            }
            for start in stride(from: 0, to: count, by: 2000) {
                for reply in try await redis.pipeline(Array(commands[start..<min(count, start + 2000)])) { try reply.throwingOnError() }
            }
            for id in 1...24 {
                let shard = keys.stream(StreamName.entities, partition: keys.layout.partition(ofUser: 1))
                try await redis.send(RedisCommand("XADD", [
                    shard, "*", "v", "1", "entity", "goodfriend", "op", "upsert", "id", String(id), "version", "1",
                    "row", BatchWriterTests.friendRow(id: id, nickname: "c\(id)"),
                ])).throwingOnError()
            }

            let settings = ["PERSISTER_BATCH_SIZE": "300", "REDIS_PARTITIONS": partitions]
            let one = try PersisterProcess(redisURL: cluster.url, mariaDBURL: database.url, settings: settings)
            let two = try PersisterProcess(redisURL: cluster.url, mariaDBURL: database.url, settings: settings)
            func written() throws -> Int { Int(try database.connect().query("SELECT COUNT(*) FROM message").first?[0] ?? "0") ?? 0 }
            try await eventually(within: 60) { try written() > 1000 }

            // Partition 0's primary hands over to its replica (nothing lost) mid-drain.
            let primary = try cluster.primary(ofSlot: Int(HashSlot(key: shards[0]).rawValue))
            let replica = try #require(try cluster.roles().replicaOf.first { $0.value == primary }?.key)
            try cluster.failover(toReplica: replica)
            try await eventually(within: 30) { try cluster.primary(ofSlot: Int(HashSlot(key: shards[0]).rawValue)) == replica }

            try await eventually(within: 120) {
                var pending = 0
                for shard in keys.allStreamShards.flatMap(\.all) {
                    pending += Int(try await redis.send("XPENDING", shard, "persister").throwingOnError().array?.first?.integer ?? 0)
                }
                return try written() == count && pending == 0
            }
            let rows = try database.connect()
            #expect(try rows.query("SELECT COUNT(DISTINCT id) FROM message").first?[0] == String(count))
            #expect(try rows.query("SELECT COUNT(*) FROM goodfriend").first?[0] == "24")
            for process in [one, two] {
                process.signal(SIGTERM)
                #expect(process.waitForExit(timeout: 30) == 0, "\(process.log.suffix(2000))")
                #expect(!process.log.contains("CROSSSLOT") && !process.log.contains("crossSlot"), "\(process.log.suffix(2000))")
            }
        }
    }
}
