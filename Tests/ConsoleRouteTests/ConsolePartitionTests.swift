import Foundation
import Model
import RedisClient
import Testing
import TestSupport

@testable import Console

/// The console's complaint list and dashboard on a partitioned layout (4 partitions,
/// whatever the run's layout): every partition's complaint index merged newest first
/// with the pages one index would give, a complaint found in its reporter's partition,
/// and each stream's figures summed over its shards.
@Suite("Console complaints and dashboard on a partitioned layout", .serialized, .offCooperativePool)
struct ConsolePartitionTests {
    static let keys = UserDirectoryPartitionTests.keys

    /// Complaints with ids above any other test's, reported by users of every partition,
    /// written as complaint_change's create writes them (row, partition's indexes).
    static func complaints(_ redis: RedisClient, count: Int) async throws -> [(id: Int, reporter: Int, status: Int)] {
        let base = Int(Date().timeIntervalSince1970 * 1000) * 100
        var made: [(id: Int, reporter: Int, status: Int)] = []
        for index in 0..<count {
            // Ids and reporters in different orders: the merge must order by id.
            let id = base + index, reporter = 1_000 + (index * 5) % 8, status = index % 2 * 2
            let partition = keys.layout.partition(ofUser: reporter)
            try await redis.pipeline([
                RedisCommand.texts("HSET", [
                    keys.complaint(id, reporter: reporter), "id", String(id), "user_id", String(reporter), "target_id", "2",
                    "target_type", "single", "reason", "r\(index)", "status", String(status), "create_time", "2026-12-07 06:00:00",
                    "update_time", "2026-12-07 06:00:00", "is_deleted", "0", "_v", "1",
                ]),
                RedisCommand("ZADD", keys.complaints(partition: partition), String(id), String(id)),
                RedisCommand("ZADD", keys.complaints(status: status, partition: partition), String(id), String(id)),
                RedisCommand.texts("HSET", [keys.user(reporter), "id", String(reporter), "username", "u\(reporter)", "nickname", "n\(reporter)"]),
            ]).forEach { try $0.throwingOnError() }
            made.append((id, reporter, status))
        }
        return made
    }

    @Test("the complaint list pages through every partition's index newest first, by status too; a complaint is read in its reporter's partition")
    func complaintPages() async throws {
        let redis = try RedisClient(configuration: RedisConfiguration.forTests(url: TestEnvironment.redisURL()))
        defer { Task { await redis.shutdown() } }
        let made = try await Self.complaints(redis, count: 10)
        #expect(Set(made.map { Self.keys.layout.partition(ofUser: $0.reporter) }).count == 4)
        let directory = ComplaintDirectory(redis: redis, keys: Self.keys)
        let newest = made.map(\.id).sorted(by: >)
        var seen: [Int] = []
        for page in 1...3 {
            let result = try await directory.list(status: nil, paging: Paging(page: page, size: 4))
            seen += result.rows.map(\.id)
            // Other tests' complaints (lower ids) may follow on the test Redis.
            if page < 3 { #expect(result.hasNext, "page \(page)") }
        }
        // No other test writes ids this high: the first ten are these, in order.
        #expect(Array(seen.prefix(10)) == newest)
        let handled = try await directory.list(status: .resolved, paging: Paging(page: 1, size: 3))
        #expect(handled.rows.map(\.id) == Array(made.filter { $0.status == 2 }.map(\.id).sorted(by: >).prefix(3)))
        #expect(handled.rows.allSatisfy { $0.status == 2 })

        let some = made[3]
        let partition = Self.keys.layout.partition(ofUser: some.reporter)
        #expect(try await directory.partition(of: some.id) == partition)
        let row = try #require(try await directory.complaint(some.id))
        #expect(row.userID == some.reporter && row.reason == "r3" && row.reporterName == "u\(some.reporter)")
        #expect(try await directory.partition(of: newest[0] + 1) == nil)
        #expect(try await directory.complaint(newest[0] + 1) == nil)
    }

    @Test("the dashboard: processes and figures from partition 0's keys, each stream's length, lag and pending summed over its shards")
    func dashboardSums() async throws {
        let server = try RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration.forTests(url: server.url))
        defer { Task { await redis.shutdown() } }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let messages0 = Self.keys.stream(StreamName.messages, partition: 0), messages2 = Self.keys.stream(StreamName.messages, partition: 2)
        for (shard, count) in [(messages0, 2), (messages2, 3)] {
            for index in 0..<count { try await redis.send("XADD", shard, "*", "n", String(index)).throwingOnError() }
            try await redis.send("XGROUP", "CREATE", shard, StreamName.persisterGroup, "0").throwingOnError()
        }
        // One entry of shard 2 read, not acknowledged.
        try await redis.send("XREADGROUP", "GROUP", StreamName.persisterGroup, "p1", "COUNT", "1", "STREAMS", messages2, ">").throwingOnError()
        try await redis.send("ZADD", Self.keys.nodes(partition: 0), String(now), "b1").throwingOnError()
        try await redis.send("HSET", Self.keys.nodeStats, "b1", #"{"sockets":3,"users":2,"at":1}"#).throwingOnError()
        try await redis.send("INCRBY", Self.keys.messagesInMinute(now / 60_000), "7").throwingOnError()

        let dashboard = try await DashboardReader(redis: redis, keys: Self.keys, liveWithinMilliseconds: 60_000).read()
        #expect(dashboard.nodes.map(\.id) == ["b1"] && dashboard.onlineUsers == 2 && dashboard.socketsTotal == 3)
        #expect(dashboard.messagesLastHour == 7)
        let streams = Dictionary(uniqueKeysWithValues: dashboard.streams.map { ($0.name, $0) })
        let sent = try #require(streams[StreamName.messages])
        #expect(sent.length == 5 && sent.lag == 4 && sent.pending == 1 && sent.lagText == "4")
        let entities = try #require(streams[StreamName.entities])
        #expect(entities.length == 0 && entities.lag == nil && entities.lagText == "—")
    }
}
