import Foundation
import Model
import RedisClient
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway
@testable import ChatScripts

/// A group's membership changes as steps (`GroupChangeSteps`, lua/group_step.lua) on a
/// layout of 4 partitions, whatever the run's layout: the group's step, then one step per
/// member partition, `finish`; a crash after the group's step (the later steps not run)
/// finished by the repairer, with the members' state of the moment; a block in another
/// partition refuses before anything is written. Members in every partition. Serialized:
/// the repairer takes every expired record of the layout.
@Suite("Group change steps between partitions", .serialized, .offCooperativePool)
struct GroupChangeStepTests {
    static let keys = RedisKeys(layout: KeyLayout(partitionTags: PartitionTags.evenlySpaced(count: 4)))
    static let now = "2026-12-07 12:00:00"

    struct Fixture {
        let redis: RedisClient
        let steps: GroupChangeSteps
        let store: GroupStore
        /// The owner (partition 0) and one member in each partition 0…3 (the owner's
        /// partition too), all friends of nobody: the store is called directly.
        let owner: Int
        let members: [Int]
        let group: Int

        static func make() async throws -> Fixture {
            let redis = try TestBridge.sharedRedis()
            let scripts = await TestBridge.dependencies(redis: redis).scripts
            let base = Int.random(in: 10_000_000...99_999_999) * 4
            let owner = base
            let members = [base + 4, base + 1, base + 2, base + 3]
            for user in [owner] + members {
                _ = try await redis.send(
                    "HSET", keys.user(user), "id", String(user), "status", "1", "role", "user", "avatar", "a\(user)", "nickname", "u\(user)"
                )
            }
            let store = GroupStore(accounts: AccountStore(scripts: scripts, keys: keys, streamCap: 100_000), keys: keys)
            return Fixture(
                redis: redis, steps: GroupChangeSteps(scripts: scripts, keys: keys, streamCap: 100_000), store: store,
                owner: owner, members: members, group: base + Int.random(in: 0...3)
            )
        }

        func lists(_ user: Int) async throws -> (listed: Bool, active: Bool) {
            let listed = try await redis.send("ZSCORE", keys.groupsOfUser(user), String(group)).string != nil
            let active = try await redis.send("ZSCORE", keys.activeGroupsOfUser(user), String(group)).string != nil
            return (listed, active)
        }

        /// The pending records of this group (other tests' changes run beside).
        func pendingCount() async throws -> Int {
            let partition = keys.layout.partition(ofGroup: group)
            let records = try await redis.send("HVALS", keys.groupPendingRecords(partition: partition)).array ?? []
            return records.compactMap(\.string).filter { $0.hasPrefix("{\"group\":\(group),") }.count
        }

        /// Runs the repairer of every partition as if the deadline had passed (it finishes
        /// the changes other tests have under way too: only this group's state is checked).
        @discardableResult
        func repair() async throws -> Int {
            let later = WallClock.milliseconds() + GroupChangeSteps.patience.components.seconds * 1000 + 1000
            var finished = 0
            for partition in 0..<keys.layout.partitions {
                finished += try await GroupChangeRepair(scripts: steps.scripts, keys: keys, streamCap: 100_000)
                    .repairExpired(partition: partition, now: later, limit: 100)
            }
            return finished
        }

        /// The group's step of a create (its id `group`), as `GroupStore.create` runs it.
        func createFirst(change: String, members: [Int]? = nil) async throws -> GroupChangeStep.Reply {
            let users = [owner] + (members ?? self.members)
            let facts = try await steps.facts(of: users, blocking: owner)
            // Row ids from the counter the store's joins take theirs from (the avatar follows row order).
            let last = Int(try await redis.send("INCRBY", RedisKeys.idCounter("group_user"), users.count).integer ?? 0)
            return try await steps.first(
                .create(uuid: "uuid-\(group)", name: "g", avatar: "", firstRowID: last - users.count + 1, members: facts),
                group: group, by: owner, change: change, now: GroupChangeStepTests.now
            )
        }

        func create() async throws {
            let id = UUID().uuidString
            guard case .changed(let changes, .created) = try await createFirst(change: id) else {
                Issue.record("create refused")
                return
            }
            try await steps.finish(id, group: group, members: changes)
        }
    }

    @Test("create: every member's lists in its own partition, no record left, nothing to repair")
    func create() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.redis.shutdown() } }
        #expect(Set(f.members.map(Self.keys.layout.partition(ofUser:))) == [0, 1, 2, 3])
        let id = UUID().uuidString
        guard case .changed(let changes, .created) = try await f.createFirst(change: id) else {
            Issue.record("create refused")
            return
        }
        #expect(Set(changes) == Set(([f.owner] + f.members).map { GroupChangeStep.MemberChange(user: $0, listed: true, active: true) }))
        #expect(try await f.pendingCount() >= 1)
        try await f.steps.finish(id, group: f.group, members: changes)
        for user in [f.owner] + f.members {
            #expect(try await f.lists(user) == (true, true))
        }
        #expect(try await f.redis.send("HLEN", Self.keys.groupMembers(f.group)).integer == 5)
        #expect(try await f.redis.send("ZSCORE", Self.keys.groups(ofGroup: f.group), String(f.group)).string == String(f.group))
        #expect(try await f.pendingCount() == 0)
        // Each member step ran once: its marker; a rerun changes nothing.
        for partition in 0..<4 {
            #expect(try await f.redis.send("EXISTS", Self.keys.groupApplied(id, partition: partition)).integer == 1)
        }
        _ = try await f.redis.send("ZREM", Self.keys.groupsOfUser(f.members[1]), String(f.group))
        try await f.steps.finish(id, group: f.group, members: changes)
        #expect(try await f.lists(f.members[1]) == (false, true))
    }

    @Test("create crashed after the group's step: the members' lists come with the repairer, once")
    func createCrash() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.redis.shutdown() } }
        guard case .changed(_, .created) = try await f.createFirst(change: UUID().uuidString) else {
            Issue.record("create refused")
            return
        }
        for user in [f.owner] + f.members {
            #expect(try await f.lists(user) == (false, false))
        }
        try await f.repair()
        for user in [f.owner] + f.members {
            #expect(try await f.lists(user) == (true, true))
        }
        #expect(try await f.pendingCount() == 0)
        try await f.repair()
    }

    @Test("a member of another partition who blocks me: create and invite refused, nothing written")
    func blockRefuses() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.redis.shutdown() } }
        // A member (not the owner's partition's) outside the group's partition: the group's id is random.
        let blocker = try #require(f.members.dropFirst().first {
            Self.keys.layout.partition(ofUser: $0) != Self.keys.layout.partition(ofGroup: f.group)
        })
        _ = try await f.redis.send("HSET", Self.keys.blocks(blocker), String(f.owner), "{}")
        #expect(try await f.createFirst(change: UUID().uuidString) == .changed(members: [], .refused(.blocked)))
        #expect(try await f.redis.send("EXISTS", Self.keys.group(f.group), Self.keys.groupMembers(f.group)).integer == 0)
        #expect(try await f.pendingCount() == 0)
        // Without the blocker: created; then inviting the blocker is refused.
        guard case .changed(let changes, .created) = try await f.createFirst(
            change: UUID().uuidString, members: f.members.filter { $0 != blocker }
        ) else {
            Issue.record("create refused")
            return
        }
        #expect(changes.count == 4)
        await #expect(throws: GroupStore.Refusal.blocked) {
            try await f.store.join(blocker, group: f.group, invitedBy: Int64(f.owner), caller: f.owner, now: Date())
        }
        #expect(try await f.redis.send("HEXISTS", Self.keys.groupMembers(f.group), String(blocker)).integer == 0)
        #expect(try await f.lists(blocker) == (false, false))
        try await f.repair()
    }

    @Test("join waiting, then decide agree crashed after the group's step: the repairer lists the member")
    func joinDecideCrash() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.redis.shutdown() } }
        let joiner = f.members[3]
        guard case .changed(let changes, .created) = try await f.createFirst(change: UUID().uuidString, members: Array(f.members.prefix(3)))
        else {
            Issue.record("create refused")
            return
        }
        try await f.steps.finish(UUID().uuidString, group: f.group, members: changes)
        _ = try await f.store.set("policy", "1", group: f.group, by: f.owner, now: Date())
        let waiting = try await f.store.join(joiner, group: f.group, invitedBy: -1, caller: joiner, now: Date())
        #expect(waiting.result == .waiting)
        #expect(try await f.lists(joiner) == (false, false))
        let avatars = try await f.steps.avatars(of: [f.owner] + f.members)
        let reply = try await f.steps.first(
            .decide(user: joiner, agree: true, avatars: avatars), group: f.group, by: f.owner, change: UUID().uuidString, now: Self.now
        )
        guard case .changed(let decided, .changed(let change)) = reply else {
            Issue.record("decide: \(reply)")
            return
        }
        #expect(change.outcome == .agreed)
        #expect(decided == [.init(user: joiner, listed: true, active: true)])
        #expect(try await f.lists(joiner) == (false, false))
        try await f.repair()
        #expect(try await f.lists(joiner) == (true, true))
        #expect(try await f.pendingCount() == 0)
    }

    @Test("join through the store: the joiner's lists; remove crashed after the group's step: repaired")
    func joinRemoveCrash() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.redis.shutdown() } }
        let joiner = f.members[1]
        guard case .changed(let changes, .created) = try await f.createFirst(change: UUID().uuidString, members: [f.members[0]]) else {
            Issue.record("create refused")
            return
        }
        try await f.steps.finish(UUID().uuidString, group: f.group, members: changes)
        let joined = try await f.store.join(joiner, group: f.group, invitedBy: Int64(f.owner), caller: f.owner, now: Date())
        #expect(joined.result == .joined)
        #expect(Set(joined.recipients) == [f.owner, f.members[0], joiner])
        #expect(try await f.lists(joiner) == (true, true))
        // The avatar of the first nine: the users' avatars, read in their partitions.
        #expect(try await f.redis.send("HGET", Self.keys.group(f.group), "avatar").string == "a\(f.owner),a\(f.members[0]),a\(joiner)")
        let reply = try await f.steps.first(
            .remove(user: joiner, avatars: try await f.steps.avatars(of: [f.owner, f.members[0]])),
            group: f.group, by: f.owner, change: UUID().uuidString, now: Self.now
        )
        #expect(reply == .changed(members: [.init(user: joiner, listed: false, active: true)], try Self.changeReply(reply)))
        #expect(try await f.lists(joiner) == (true, true))
        try await f.repair()
        #expect(try await f.lists(joiner) == (false, false))
        #expect(try await f.redis.send("HGET", Self.keys.group(f.group), "avatar").string == "a\(f.owner),a\(f.members[0])")
    }

    @Test("a stale avatar set: the group's step asks for the users it needs, nothing written")
    func staleAvatars() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.redis.shutdown() } }
        try await f.create()
        let reply = try await f.steps.first(
            .remove(user: f.members[0], avatars: [:]), group: f.group, by: f.owner, change: UUID().uuidString, now: Self.now
        )
        guard case .changed(let members, .needsAvatars(let users)) = reply else {
            Issue.record("remove: \(reply)")
            return
        }
        #expect(members.isEmpty)
        #expect(Set(users) == Set([f.owner] + f.members.dropFirst()))
        #expect(try await f.redis.send("HEXISTS", Self.keys.groupMembers(f.group), String(f.members[0])).integer == 1)
        #expect(try await f.pendingCount() == 0)
    }

    @Test("dissolve crashed after the group's step: every member's lists emptied by the repairer; a quit through the store")
    func leaveCrash() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.redis.shutdown() } }
        try await f.create()
        let quit = try await f.store.leave(f.group, by: f.members[3], now: Date())
        #expect(quit.result == .quit)
        #expect(quit.recipients == [f.owner])
        #expect(try await f.lists(f.members[3]) == (false, false))
        let reply = try await f.steps.first(.leave, group: f.group, by: f.owner, change: UUID().uuidString, now: Self.now)
        guard case .changed(let members, .changed(let change)) = reply else {
            Issue.record("leave: \(reply)")
            return
        }
        #expect(change.outcome == .dissolved)
        #expect(Set(members.map(\.user)) == Set([f.owner] + f.members.prefix(3)))
        #expect(members.allSatisfy { !$0.listed })
        #expect(try await f.redis.send("EXISTS", Self.keys.group(f.group), Self.keys.groupMembers(f.group)).integer == 0)
        #expect(try await f.lists(f.owner) == (true, true))
        try await f.repair()
        for user in [f.owner] + f.members {
            #expect(try await f.lists(user) == (false, false))
        }
        #expect(try await f.pendingCount() == 0)
    }

    @Test("a repair after a later change of the same member: the lists show the current state")
    func repairTakesCurrentState() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.redis.shutdown() } }
        let joiner = f.members[2]
        guard case .changed(let changes, .created) = try await f.createFirst(change: UUID().uuidString, members: [f.members[0]]) else {
            Issue.record("create refused")
            return
        }
        try await f.steps.finish(UUID().uuidString, group: f.group, members: changes)
        // The join's group step only (a crash), then a whole removal of the joiner.
        let facts = try await f.steps.facts(of: [joiner], blocking: f.owner)[0]
        _ = try await f.steps.first(
            .join(joiner: facts, inviter: Int64(f.owner), rowID: Int(try await f.redis.send("INCR", RedisKeys.idCounter("group_user")).integer ?? 0), maxMembers: 500,
                  avatars: try await f.steps.avatars(of: [f.owner, f.members[0], joiner])),
            group: f.group, by: f.owner, change: UUID().uuidString, now: Self.now
        )
        _ = try await f.store.remove(joiner, from: f.group, by: f.owner, now: Date())
        #expect(try await f.lists(joiner) == (false, false))
        try await f.repair()
        #expect(try await f.lists(joiner) == (false, false))
    }

    @Test("an operator's status: the group's step, each member's active groups; crashed: repaired")
    func status() async throws {
        let f = try await Fixture.make()
        defer { Task { await f.redis.shutdown() } }
        try await f.create()
        let disabled = try await f.steps.run(.status(enabled: false), group: f.group, by: 0, now: Self.now)
        guard case .status(let members, let version) = disabled else {
            Issue.record("status: \(disabled)")
            return
        }
        #expect(version >= 2)
        #expect(members.count == 5)
        for user in [f.owner] + f.members {
            #expect(try await f.lists(user) == (true, false))
        }
        _ = try await f.steps.first(.status(enabled: true), group: f.group, by: 0, change: UUID().uuidString, now: Self.now)
        #expect(try await f.redis.send("HGET", Self.keys.group(f.group), "status").string == "1")
        #expect(try await f.lists(f.members[1]) == (true, false))
        try await f.repair()
        for user in [f.owner] + f.members {
            #expect(try await f.lists(user) == (true, true))
        }
        let missing = try await f.steps.run(.status(enabled: true), group: f.group + 4_000_000_000, by: 0, now: Self.now)
        #expect(missing == .changed(members: [], .refused(.missing)))
    }

    private static func changeReply(_ reply: GroupChangeStep.Reply) throws -> ChangeGroup.Reply {
        guard case .changed(_, let change) = reply else { throw RedisError.server("not a change") }
        return change
    }
}
