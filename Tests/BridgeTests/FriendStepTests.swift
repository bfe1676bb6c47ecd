import Foundation
import Model
import RedisClient
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatScripts

/// Friend operations between users of two partitions (`FriendSteps`, lua/friend_step.lua)
/// on a layout of 4 partitions, whatever the run's layout: each step on one partition, a
/// crash between steps (the later steps not run) finished by the repairer, every step
/// safe to run twice, every row and event written once. Serialized: the repairer takes
/// every expired record of the layout, another test's too.
@Suite("Friend steps between partitions", .serialized, .offCooperativePool)
struct FriendStepTests {
    static let keys = RedisKeys(layout: KeyLayout(partitionTags: PartitionTags.evenlySpaced(count: 4)))
    static let now = "2026-12-07 12:00:00"

    struct Fixture {
        let redis: RedisClient
        let steps: FriendSteps
        /// Users of partitions 1 and 2.
        let me: Int
        let them: Int

        static func make(_ client: RedisClient? = nil) async throws -> Fixture {
            let redis = try client ?? TestBridge.sharedRedis()
            let scripts = await TestBridge.dependencies(redis: redis).scripts
            let base = Int.random(in: 10_000_000...99_999_999) * 4
            let fixture = Fixture(
                redis: redis, steps: FriendSteps(scripts: scripts, keys: FriendStepTests.keys, streamCap: 100_000),
                me: base + 1, them: base + 2
            )
            for user in [fixture.me, fixture.them] {
                _ = try await redis.send("HSET", keys.user(user), "id", String(user), "status", "1", "invite_confirm", "0")
            }
            return fixture
        }

        func row(owner: Int, friend: Int) async throws -> JSONObject? {
            guard let text = try await redis.send("HGET", keys.friends(owner), String(friend)).string else { return nil }
            return try JSONParser.parse(text).objectValue
        }

        func isPending(_ user: Int) async throws -> Bool {
            let partition = keys.layout.partition(ofUser: user)
            let ids = try await redis.send("ZRANGE", keys.socialPending(partition: partition), 0, -1).array ?? []
            for id in ids.compactMap(\.string) {
                let record = try await redis.send("HGET", keys.socialPendingRecords(partition: partition), id).bytes
                if let record, let decoded = try? JSONDecoder().decode(FriendSteps.Record.self, from: Data(record)),
                   decoded.me == me, decoded.other == them { return true }
            }
            return false
        }

        /// The `goodfriend` and `block` events between the two users in every shard, as `entity op id`.
        func events() async throws -> [String] {
            var found: [String] = []
            for shard in keys.shards(of: StreamName.entities) {
                for entry in try await redis.send("XRANGE", shard, "-", "+").array ?? [] {
                    let fields = entry.array?.last?.fieldValues ?? [:]
                    guard ["goodfriend", "block"].contains(fields["entity"] ?? ""), let row = fields["row"].flatMap({ try? JSONParser.parse($0).objectValue }),
                          let owner = row["user_id"]?.integerValue,
                          let other = (row["friend_id"] ?? row["blocked_id"])?.integerValue,
                          Set([owner, other]) == Set([Int64(me), Int64(them)])
                    else { continue }
                    found.append("\(fields["entity"] ?? "") \(fields["op"] ?? "") \(fields["id"] ?? "")")
                }
            }
            return found.sorted()
        }

        /// Runs the repairer as if `patience` had passed.
        func repair() async throws -> Int {
            try await steps.repairAll(now: Date().addingTimeInterval(Double(FriendSteps.patience.components.seconds) + 1))
        }

        func request(requestID: Int) -> ChangeFriendRequest.Request {
            .init(me: me, to: them, requestID: requestID, nickname: "hi", oldRequestID: "")
        }
    }

    @Test("autoAddFriendAndAgree: target's step, then mine; a second repair changes nothing")
    func autoAcrossPartitions() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.redis.shutdown() } }
        try await Self.autoAcrossPartitions(f)
    }

    static func autoAcrossPartitions(_ f: Fixture) async throws {
        #expect(Self.keys.layout.partition(ofUser: f.me) != Self.keys.layout.partition(ofUser: f.them))
        let id = f.me
        let made = try await f.steps.autoAdd(f.request(requestID: id), rows: .init(mine: id, theirs: id + 1), myNickname: "Me", now: Self.now)
        #expect(made.created == 2)
        #expect(try await f.row(owner: f.me, friend: f.them)?["id"] == .integer(Int64(id)))
        #expect(try await f.row(owner: f.them, friend: f.me)?["nickname"] == "Me")
        #expect(try await f.redis.send("HGET", Self.keys.friendRequest(id, to: f.them), "status").string == "agree")
        #expect(try await f.isPending(f.me) == false)
        #expect(try await f.repair() == 0)
        #expect(try await f.events() == ["goodfriend upsert \(id + 1)", "goodfriend upsert \(id)"].sorted())
    }

    @Test("autoAddFriendAndAgree crashed after the first step: the repairer does the rest")
    func autoCrashAfterBegin() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.redis.shutdown() } }
        try await Self.autoCrashAfterBegin(f)
    }

    static func autoCrashAfterBegin(_ f: Fixture) async throws {
        let id = f.me
        var record = FriendSteps.Record(kind: .auto, me: f.me, other: f.them, now: Self.now)
        record.requestID = id
        record.nickname = "hi"
        record.myRowID = id
        record.theirRowID = id + 1
        record.myNickname = "Me"
        let operation = UUID().uuidString
        #expect(try await f.steps.run(.begin(me: f.me, try f.steps.pending(record)), id: operation, now: Self.now) == .done)
        // Nothing visible yet: the other user sees no request and no row.
        #expect(try await f.row(owner: f.them, friend: f.me) == nil)
        #expect(try await f.redis.send("EXISTS", Self.keys.friendRequestPair(from: f.me, to: f.them)).integer == 0)
        // Not before the deadline.
        #expect(try await f.steps.repairAll() == 0)
        #expect(try await f.repair() == 1)
        #expect(try await f.row(owner: f.me, friend: f.them)?["id"] == .integer(Int64(id)))
        #expect(try await f.row(owner: f.them, friend: f.me)?["id"] == .integer(Int64(id + 1)))
        #expect(try await f.isPending(f.me) == false)
        #expect(try await f.repair() == 0)
        #expect(try await f.events() == ["goodfriend upsert \(id + 1)", "goodfriend upsert \(id)"].sorted())
    }

    @Test("autoAddFriendAndAgree crashed after the target's step: repaired once, the target's step not run twice")
    func autoCrashAfterTarget() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.redis.shutdown() } }
        try await Self.autoCrashAfterTarget(f)
    }

    static func autoCrashAfterTarget(_ f: Fixture) async throws {
        let id = f.me
        var record = FriendSteps.Record(kind: .auto, me: f.me, other: f.them, now: Self.now)
        record.requestID = id
        record.nickname = "hi"
        record.myRowID = id
        record.theirRowID = id + 1
        record.myNickname = "Me"
        let operation = UUID().uuidString
        _ = try await f.steps.run(.begin(me: f.me, try f.steps.pending(record)), id: operation, now: Self.now)
        let target = try await f.steps.run(.autoTarget(f.request(requestID: id), theirRowID: id + 1, myNickname: "Me"), id: operation, now: Self.now)
        guard case .row(1, _) = target else { Issue.record("target step: \(target)"); return }
        // Run again (a retry): the marker answers, nothing is written twice.
        let again = try await f.steps.run(.autoTarget(f.request(requestID: id), theirRowID: id + 1, myNickname: "Me"), id: operation, now: Self.now)
        guard case .row(0, _) = again else { Issue.record("repeated target step: \(again)"); return }
        #expect(try await f.row(owner: f.me, friend: f.them) == nil)
        #expect(try await f.repair() == 1)
        #expect(try await f.row(owner: f.me, friend: f.them)?["id"] == .integer(Int64(id)))
        #expect(try await f.isPending(f.me) == false)
        #expect(try await f.events() == ["goodfriend upsert \(id + 1)", "goodfriend upsert \(id)"].sorted())
    }

    @Test("a refusal in the target's partition writes nothing on either side and drops the pending record")
    func autoRefusedByBlock() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.redis.shutdown() } }
        try await Self.autoRefusedByBlock(f)
    }

    static func autoRefusedByBlock(_ f: Fixture) async throws {
        _ = try await f.redis.send("HSET", Self.keys.blocks(f.them), String(f.me), "{}")
        let id = f.me
        await #expect(throws: FriendRefusal.blocked) {
            try await f.steps.autoAdd(f.request(requestID: id), rows: .init(mine: id, theirs: id + 1), myNickname: "Me", now: Self.now)
        }
        #expect(try await f.row(owner: f.me, friend: f.them) == nil)
        #expect(try await f.row(owner: f.them, friend: f.me) == nil)
        #expect(try await f.redis.send("EXISTS", Self.keys.friendRequest(id, to: f.them)).integer == 0)
        #expect(try await f.isPending(f.me) == false)
        #expect(try await f.events().isEmpty)
    }

    @Test("handleapply agree refused by the applicant's block: the request is pending again")
    func handleUndone() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.redis.shutdown() } }
        try await Self.handleUndone(f)
    }

    static func handleUndone(_ f: Fixture) async throws {
        // them → me, pending, in my partition.
        let id = f.them
        _ = try await f.redis.send(
            "HSET", Self.keys.friendRequest(id, to: f.me), "id", String(id), "user_id", String(f.them), "friend_id", String(f.me),
            "nickname", "", "status", "pending", "order", "0", "create_time", "2026-12-07 11:00:00",
            "update_time", "2026-12-07 11:00:00", "_v", "1"
        )
        _ = try await f.redis.send("ZADD", Self.keys.pendingFriendRequestsTo(f.me), String(id), String(id))
        _ = try await f.redis.send("HSET", Self.keys.blocks(f.them), String(f.me), "{}")
        await #expect(throws: FriendRefusal.blocked) {
            try await f.steps.handle(
                requestID: id, me: f.me, applicant: f.them, status: "agree", remark: "", myNickname: "Me",
                rows: .init(mine: id, theirs: id + 1), now: Self.now
            )
        }
        #expect(try await f.redis.send("HGET", Self.keys.friendRequest(id, to: f.me), "status").string == "pending")
        #expect(try await f.redis.send("ZSCORE", Self.keys.pendingFriendRequestsTo(f.me), String(id)).string == String(id))
        #expect(try await f.row(owner: f.me, friend: f.them) == nil)
        #expect(try await f.isPending(f.me) == false)

        // Lifted: agreeing works, both rows once.
        _ = try await f.redis.send("DEL", Self.keys.blocks(f.them))
        let made = try await f.steps.handle(
            requestID: id, me: f.me, applicant: f.them, status: "agree", remark: "R", myNickname: "Me",
            rows: .init(mine: id + 2, theirs: id + 3), now: Self.now
        )
        #expect(made?.created == 2)
        #expect(try await f.row(owner: f.me, friend: f.them)?["nickname"] == "R")
        #expect(try await f.row(owner: f.them, friend: f.me)?["nickname"] == "Me")
        #expect(try await f.redis.send("HGET", Self.keys.friendRequest(id, to: f.me), "status").string == "agree")
    }

    @Test("deletegoodfriend crashed after my side: the repairer deletes theirs, a blacklisted row becomes a block once")
    func deleteCrashAfterMine() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.redis.shutdown() } }
        try await Self.deleteCrashAfterMine(f)
    }

    static func deleteCrashAfterMine(_ f: Fixture) async throws {
        let id = f.me
        _ = try await f.steps.autoAdd(f.request(requestID: id), rows: .init(mine: id, theirs: id + 1), myNickname: "Me", now: Self.now)
        // Their row blacklisted before blocks existed.
        var theirs = try #require(try await f.row(owner: f.them, friend: f.me))
        theirs["isblack"] = 1
        _ = try await f.redis.send("HSET", Self.keys.friends(f.them), String(f.me), JSONSerializer.string(.object(theirs)))

        var record = FriendSteps.Record(kind: .delete, me: f.me, other: f.them, now: Self.now)
        record.blockID = 1
        let operation = UUID().uuidString
        let mine = try await f.steps.run(
            .deleteMine(me: f.me, friend: f.them, theirRequestID: "", blockID: 1, try f.steps.pending(record)), id: operation, now: Self.now
        )
        #expect(mine == .done)
        #expect(try await f.row(owner: f.me, friend: f.them) == nil)
        #expect(try await f.row(owner: f.them, friend: f.me) != nil)
        #expect(try await f.repair() == 1)
        #expect(try await f.row(owner: f.them, friend: f.me) == nil)
        #expect(try await f.redis.send("HEXISTS", Self.keys.blocks(f.them), String(f.me)).integer == 1)
        #expect(try await f.redis.send("EXISTS", Self.keys.friendRequestPair(from: f.me, to: f.them)).integer == 0)
        #expect(try await f.redis.send("ZCARD", Self.keys.friendRequestsTo(f.them)).integer == 0)
        #expect(try await f.isPending(f.me) == false)
        #expect(try await f.repair() == 0)
        let events = try await f.events()
        #expect(events.filter { $0.hasPrefix("block upsert") }.count == 1)
        #expect(events.filter { $0.hasPrefix("goodfriend delete") }.count == 2)
    }

    @Test("handleapply agree crashed after my step: the request shows agree, the repairer makes both rows once")
    func handleCrashAfterBegin() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.redis.shutdown() } }
        try await Self.handleCrashAfterBegin(f)
    }

    static func handleCrashAfterBegin(_ f: Fixture) async throws {
        let id = f.them
        _ = try await f.redis.send(
            "HSET", Self.keys.friendRequest(id, to: f.me), "id", String(id), "user_id", String(f.them), "friend_id", String(f.me),
            "nickname", "", "status", "pending", "order", "0", "create_time", "2026-12-07 11:00:00",
            "update_time", "2026-12-07 11:00:00", "_v", "1"
        )
        _ = try await f.redis.send("ZADD", Self.keys.pendingFriendRequestsTo(f.me), String(id), String(id))
        var record = FriendSteps.Record(kind: .handle, me: f.me, other: f.them, now: Self.now)
        record.requestID = id
        record.myRowID = id + 10
        record.theirRowID = id + 11
        record.myNickname = "Me"
        record.remark = "R"
        let begun = try await f.steps.run(
            .handleBegin(requestID: id, me: f.me, applicant: f.them, status: "agree", try f.steps.pending(record)),
            id: UUID().uuidString, now: Self.now
        )
        #expect(begun == .done)
        #expect(try await f.redis.send("HGET", Self.keys.friendRequest(id, to: f.me), "status").string == "agree")
        #expect(try await f.redis.send("ZCARD", Self.keys.pendingFriendRequestsTo(f.me)).integer == 0)
        #expect(try await f.row(owner: f.them, friend: f.me) == nil)
        #expect(try await f.repair() == 1)
        #expect(try await f.row(owner: f.me, friend: f.them)?["nickname"] == "R")
        #expect(try await f.row(owner: f.them, friend: f.me)?["nickname"] == "Me")
        #expect(try await f.isPending(f.me) == false)
        #expect(try await f.repair() == 0)
        #expect(try await f.events() == ["goodfriend upsert \(id + 10)", "goodfriend upsert \(id + 11)"].sorted())
    }

    @Test("a pending record that cannot be read is dropped, not retried forever")
    func unreadableRecord() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.redis.shutdown() } }
        let partition = Self.keys.layout.partition(ofUser: f.me)
        let id = UUID().uuidString
        _ = try await f.redis.send("ZADD", Self.keys.socialPending(partition: partition), "1", id)
        _ = try await f.redis.send("HSET", Self.keys.socialPendingRecords(partition: partition), id, "not json")
        #expect(try await f.repair() == 0)
        #expect(try await f.redis.send("ZSCORE", Self.keys.socialPending(partition: partition), id) == .null)
        #expect(try await f.redis.send("HEXISTS", Self.keys.socialPendingRecords(partition: partition), id).integer == 0)
    }

    /// The same scenarios on a real Redis Cluster (three primaries): a step that touched two
    /// partitions' slots would be refused by the client (`crossSlot`) before being sent.
    @Test("every scenario on a Redis Cluster: one slot per step", .timeLimit(.minutes(3)))
    func onACluster() async throws {
        let cluster = try RedisClusterProcess()
        var configuration = try RedisConfiguration(url: cluster.url)
        configuration.poolSize = 2
        let redis = RedisClient(configuration: configuration)
        defer { Task { await redis.shutdown() } }
        try await Self.autoAcrossPartitions(try await Fixture.make(redis))
        try await Self.autoCrashAfterBegin(try await Fixture.make(redis))
        try await Self.autoCrashAfterTarget(try await Fixture.make(redis))
        try await Self.autoRefusedByBlock(try await Fixture.make(redis))
        try await Self.handleUndone(try await Fixture.make(redis))
        try await Self.handleCrashAfterBegin(try await Fixture.make(redis))
        try await Self.deleteCrashAfterMine(try await Fixture.make(redis))
    }
}
