import ChatGateway
import ChatScripts
import Foundation
import Model
import RedisClient

/// A group's membership changes (and an operator's group status) on a tagged layout, as
/// steps of `lua/group_step.lua` (docs/architecture.md, *Redis Cluster: partitions and
/// steps*): the facts of users of other partitions read there first (read-only), the
/// group's step (checks, rows, a pending record of the members' list changes), one step
/// per partition of those members (an `applied` marker each), `finish`. A crash between
/// them leaves the pending record, which `GroupChangeRepair` finishes after its deadline.
package struct GroupChangeSteps: Sendable {
    /// How long a change may take before the repairer finishes it.
    package static let patience: Duration = .seconds(10)

    let scripts: RedisScripts
    let keys: RedisKeys
    let streamCap: Int
    var redis: RedisClient { scripts.client }

    package init(scripts: RedisScripts, keys: RedisKeys, streamCap: Int) {
        self.scripts = scripts
        self.keys = keys
        self.streamCap = streamCap
    }

    /// A group's step with a new change id, then (when it changed members' lists) their
    /// partitions' steps and `finish`.
    package func run(_ operation: GroupChangeStep.Operation, group: Int, by me: Int, now: String) async throws
        -> GroupChangeStep.Reply
    {
        let id = UUID().uuidString
        let reply = try await first(operation, group: group, by: me, change: id, now: now)
        switch reply {
        case .changed(let members, _), .status(let members, _):
            if !members.isEmpty { try await finish(id, group: group, members: members) }
        case .done:
            break
        }
        return reply
    }

    /// Only the group's step (what a crash right after it leaves): tests, and `run`.
    package func first(_ operation: GroupChangeStep.Operation, group: Int, by me: Int, change id: String, now: String)
        async throws -> GroupChangeStep.Reply
    {
        try await scripts.run(step(operation, group: group, by: me, change: id, now: now))
    }

    /// The members' steps, partition by partition (in the order of their first member),
    /// then `finish`. Each is a no-op where it ran before.
    package func finish(_ id: String, group: Int, members: [GroupChangeStep.MemberChange]) async throws {
        var partitions: [Int] = []
        var changes: [Int: [GroupChangeStep.MemberChange]] = [:]
        for member in members {
            let partition = keys.layout.partition(ofUser: member.user)
            if changes[partition] == nil { partitions.append(partition) }
            changes[partition, default: []].append(member)
        }
        for partition in partitions {
            _ = try await scripts.run(step(.members(partition: partition, changes: changes[partition] ?? []), group: group, change: id))
        }
        _ = try await scripts.run(step(.finish, group: group, change: id))
    }

    private func step(_ operation: GroupChangeStep.Operation, group: Int, by me: Int = 0, change id: String, now: String = "")
        -> GroupChangeStep
    {
        let deadline = WallClock.milliseconds() + Self.patience.components.seconds * 1000
        return GroupChangeStep(
            group: group, by: me, change: id, operation, keys: keys, streamCap: streamCap, now: now, deadline: deadline
        )
    }

    // MARK: Facts read in the users' partitions (read-only, before the group's step)

    /// Each user's row status and role, and whether the user blocks `me`: one round trip
    /// (each command on its user's partition). A block or a ban after this read and before
    /// the group's step is not seen (docs/architecture.md: the window of a step's facts).
    package func facts(of users: [Int], blocking me: Int) async throws -> [GroupChangeStep.Facts] {
        guard !users.isEmpty else { return [] }
        var commands: [RedisCommand] = []
        for user in users {
            commands.append(RedisCommand("HMGET", keys.user(user), "status", "role"))
            commands.append(RedisCommand("HEXISTS", keys.blocks(user), String(me)))
        }
        let replies = try await redis.pipeline(commands)
        return try users.enumerated().map { index, user in
            let row = try replies[2 * index].throwingOnError().array ?? []
            let blocks = try replies[2 * index + 1].throwingOnError().integer == 1
            return GroupChangeStep.Facts(
                user: user, status: row.first?.string, role: row.count > 1 ? row[1].string : nil, blocksMe: blocks
            )
        }
    }

    /// The user avatars of `users` ('' for a user without a row): one round trip.
    package func avatars(of users: [Int]) async throws -> [Int: String] {
        guard !users.isEmpty else { return [:] }
        let replies = try await redis.pipeline(users.map { RedisCommand("HGET", keys.user($0), "avatar") })
        var avatars: [Int: String] = [:]
        for (user, reply) in zip(users, replies) { avatars[user] = try reply.throwingOnError().string ?? "" }
        return avatars
    }

    // MARK: Repair

    /// Finishes the changes of `partition` (groups of that partition) whose deadline
    /// passed: the members' state is read from the group's partition now (a later change
    /// of the same member may have run meanwhile: the current state is what their lists
    /// must show), then their steps and `finish` as `run` does. Returns how many.
    package func repairExpired(partition: Int, now: Int64, limit: Int) async throws -> Int {
        let pending = keys.groupPending(partition: partition)
        let ids = try await redis.expiredPending(pending, now: now, limit: limit)
        var finished = 0
        for id in ids {
            let text = try await redis.send("HGET", keys.groupPendingRecords(partition: partition), id).throwingOnError().bytes
            guard let text, let group = Self.group(ofRecord: text), let recorded = GroupChangeStep.members(ofRecord: text),
                  keys.layout.partition(ofGroup: group) == partition
            else {
                // Finished meanwhile, or unreadable: nothing can be done for it.
                _ = try await redis.send("ZREM", pending, id).throwingOnError()
                _ = try await redis.send("HDEL", keys.groupPendingRecords(partition: partition), id).throwingOnError()
                continue
            }
            try await finish(id, group: group, members: try await current(recorded.map(\.user), of: group))
            finished += 1
        }
        return finished
    }

    /// What `users`' lists must show for `group` now: listed while they have a member row
    /// that is not an application, active while the group is too.
    func current(_ users: [Int], of group: Int) async throws -> [GroupChangeStep.MemberChange] {
        guard !users.isEmpty else { return [] }
        let replies = try await redis.pipeline([
            RedisCommand("HGET", keys.group(group), "status"),
            RedisCommand("HMGET", ([keys.groupMembers(group)] + users.map(String.init)) as [any RedisArgument]),
        ])
        let active = try replies[0].throwingOnError().string == "1"
        let rows = try replies[1].throwingOnError().array ?? []
        return users.enumerated().map { index, user in
            let row = index < rows.count ? rows[index].bytes.flatMap(GroupMemberRow.init) : nil
            let listed = row.map { $0.status != .waiting } ?? false
            return GroupChangeStep.MemberChange(user: user, listed: listed, active: listed && active)
        }
    }

    private static func group(ofRecord record: [UInt8]) -> Int? {
        (try? JSONParser.parse(record).objectValue)?["group"]?.integerValue.map { Int($0) }
    }
}
