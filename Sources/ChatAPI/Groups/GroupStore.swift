import ChatScripts
import Foundation
import Model
import RedisClient

/// Groups and their members in Redis (docs/api.md, *Groups*): the row in `chat:group:{gid}`,
/// member rows in `chat:group:{gid}:members`, each user's gids in
/// `chat:user:{uid}:groups`. Every change is one run of `lua/group_update.lua`, which
/// appends the `group` / `group_user` entity events in the same step; on a tagged layout
/// the membership changes are steps (`GroupChangeSteps`).
struct GroupStore: Sendable {
    /// Why the script refused a change: its error codes.
    typealias Refusal = ChangeGroup.Refusal

    /// What a change did, and who its notice goes to.
    struct Change: Sendable {
        /// What the script did.
        let result: ChangeGroup.Outcome
        /// The group after the change (as it was, for `dissolved`).
        let group: GroupRow?
        /// The caller's member row (rename, remark, leave), as it was.
        let actor: GroupMemberRow?
        let recipients: [Int]

        init(_ change: ChangeGroup.Change) {
            result = change.outcome
            group = change.group.flatMap(GroupRow.init(json:))
            actor = change.actor.flatMap(GroupMemberRow.init)
            recipients = change.recipients
        }
    }

    /// Tries of a change whose members keep changing under it.
    static let attempts = 8
    /// Tries of a change that recomputes the avatar (a burst of joins changes the first
    /// nine members under it more often).
    static let avatarAttempts = 32
    /// Active members whose user avatar the avatar recomputation may need (9, and one
    /// more for a removal).
    static let avatarCandidates = 10

    let accounts: AccountStore
    /// Rows a group may have, applicants included (`--group-max-members`).
    var maxMembers = APIRoutes.defaultGroupMaxMembers
    /// The layout's names: a group's keys in its partition, a member's in the member's.
    let keys: RedisKeys
    var scripts: RedisScripts { accounts.scripts }
    var redis: RedisClient { accounts.redis }
    var streamCap: Int { accounts.streamCap }
    /// On a tagged layout the membership changes are steps (the members' lists are in
    /// their partitions); nil on one partition, where each is one run of `group_update`.
    var steps: GroupChangeSteps? {
        keys.layout.isTagged ? GroupChangeSteps(scripts: scripts, keys: keys, streamCap: streamCap) : nil
    }

    // MARK: Reading

    func group(_ id: Int) async throws -> GroupRow? {
        GroupRow(hash: try await redis.send("HGETALL", keys.group(id)).throwingOnError().fieldValues)
    }

    /// Every member row (all statuses), by row id.
    func members(of group: Int) async throws -> [GroupMemberRow] {
        let values = try await redis.send("HVALS", keys.groupMembers(group)).throwingOnError().array ?? []
        return values.compactMap { $0.bytes.flatMap(GroupMemberRow.init) }.sorted { $0.id < $1.id }
    }

    func member(_ user: Int, of group: Int) async throws -> GroupMemberRow? {
        try await redis.send("HGET", keys.groupMembers(group), String(user)).throwingOnError().bytes.flatMap(GroupMemberRow.init)
    }

    /// The gids `user` is a member of, newest first.
    func groupIDs(of user: Int) async throws -> [Int] {
        let reply = try await redis.send("ZREVRANGE", keys.groupsOfUser(user), 0, -1).throwingOnError()
        return (reply.array ?? []).compactMap { $0.string.flatMap { Int($0) } }
    }

    /// The groups of `ids` that exist, in one round trip, in the order given.
    func groups(_ ids: [Int]) async throws -> [GroupRow] {
        guard !ids.isEmpty else { return [] }
        let replies = try await redis.pipeline(ids.map { RedisCommand("HGETALL", keys.group($0)) })
        return replies.compactMap { GroupRow(hash: $0.fieldValues) }
    }

    /// The member row of `user` in each of `groups`, in one round trip.
    func memberRows(of user: Int, in groups: [Int]) async throws -> [Int: GroupMemberRow] {
        guard !groups.isEmpty else { return [:] }
        let replies = try await redis.pipeline(groups.map { RedisCommand("HGET", keys.groupMembers($0), String(user)) })
        var rows: [Int: GroupMemberRow] = [:]
        for (group, reply) in zip(groups, replies) {
            if let row = reply.bytes.flatMap(GroupMemberRow.init) { rows[group] = row }
        }
        return rows
    }

    // MARK: Changes

    /// `group/create`: the group, me first then `users` as members. Throws `.stale` when
    /// one of them was disabled meanwhile.
    func create(by me: UserRow, users: [UserRow], name: String, avatar: String, now: Date) async throws -> GroupRow {
        let members = [me] + users
        let replies = try await redis.pipeline([
            RedisCommand("INCR", RedisKeys.idCounter("group")),
            RedisCommand("INCRBY", RedisKeys.idCounter("group_user"), members.count),
        ])
        guard let groupID = try replies[0].throwingOnError().integer, let lastRow = try replies[1].throwingOnError().integer else {
            throw RedisError.server("INCR failed")
        }
        let id = Int(groupID)
        let operation = (uuid: MessageID.random(), firstRowID: Int(lastRow) - members.count + 1)
        if let steps {
            let facts = try await steps.facts(of: members.map(\.id), blocking: me.id)
            let reply = try await steps.run(
                .create(uuid: operation.uuid, name: name, avatar: avatar, firstRowID: operation.firstRowID, members: facts),
                group: id, by: me.id, now: TimeFormat.rowTime(now)
            )
            if case .changed(_, .refused(let refusal)) = reply { throw refusal }
        } else if case .refused(let refusal) = try await scripts.run(change(
            id, by: me.id,
            .create(uuid: operation.uuid, name: name, avatar: avatar, firstRowID: operation.firstRowID, members: members.map(\.id)),
            now: now
        )) {
            throw refusal
        }
        guard let group = try await group(id) else { throw RedisError.server("group_update: created group \(id) missing") }
        return group
    }

    /// `groupUpdateName`, `groupremark`, `groupAddUserSet` (`op` rename, remark, policy)
    /// and `groupnickname` (nickname). Throws `.notOwner` / `.notMember`.
    func set(_ op: String, _ value: String, group: Int, by me: Int, now: Date) async throws -> Change {
        guard let setting = ChangeGroup.Setting(rawValue: op) else { throw RedisError.server("group_update: no setting \(op)") }
        return try await run(change(group, by: me, .set(setting, value: value), now: now))
    }

    /// `groupDeleteUser`. Throws `.notOwner`, `.removingSelf`.
    func remove(_ user: Int, from group: Int, by me: Int, now: Date) async throws -> Change {
        try await retryingAvatar { needed in
            let avatarUsers = try await avatarUsers(group, plus: needed)
            if let steps {
                let avatars = try await steps.avatars(of: avatarUsers)
                return try await run(steps, .remove(user: user, avatars: avatars), group: group, by: me, now: now)
            }
            return try await run(change(group, by: me, .remove(user: user, avatarUsers: avatarUsers), now: now))
        }
    }

    /// `groupInviteUser`. Throws `.groupMissing`, `.illegal`, `.pending`, `.already`,
    /// `.full`, `.joinerMissing`, `.loginFirst`.
    func join(_ joiner: Int, group: Int, invitedBy inviter: Int64, caller me: Int, now: Date) async throws -> Change {
        let rowID = try await nextID("group_user")
        return try await retryingAvatar { needed in
            let avatarUsers = try await avatarUsers(group, plus: needed + [joiner])
            if let steps {
                async let avatars = steps.avatars(of: avatarUsers)
                let facts = try await steps.facts(of: [joiner], blocking: me)[0]
                return try await run(
                    steps, .join(joiner: facts, inviter: inviter, rowID: rowID, maxMembers: maxMembers, avatars: try await avatars),
                    group: group, by: me, now: now
                )
            }
            return try await run(change(
                group, by: me, .join(joiner: joiner, inviter: inviter, rowID: rowID, avatarUsers: avatarUsers, maxMembers: maxMembers),
                now: now
            ))
        }
    }

    /// `groupAgreeOrNo`. Throws `.notOwner`, `.illegal`.
    func decide(_ user: Int, agree: Bool, group: Int, by me: Int, now: Date) async throws -> Change {
        try await retryingAvatar { needed in
            let avatarUsers = try await avatarUsers(group, plus: needed + [user])
            if let steps {
                let avatars = try await steps.avatars(of: avatarUsers)
                return try await run(steps, .decide(user: user, agree: agree, avatars: avatars), group: group, by: me, now: now)
            }
            return try await run(change(group, by: me, .decide(user: user, agree: agree, avatarUsers: avatarUsers), now: now))
        }
    }

    /// `groupDeleteOrQuit`: the owner dissolves the group, a member quits. Throws
    /// `.missing`, `.notMember`.
    func leave(_ group: Int, by me: Int, now: Date) async throws -> Change {
        // Steps: the group's step reads the members itself; their lists change after it.
        if let steps { return try await run(steps, .leave, group: group, by: me, now: now) }
        return try await retryingStale {
            let owner = try await redis.send("HGET", keys.group(group), "user_id").throwingOnError().string.flatMap { Int($0) }
            var users = [me]
            if owner == me { users = try await members(of: group).map(\.userID) }
            return try await run(change(group, by: me, .leave(members: users), now: now))
        }
    }

    // MARK: Helpers

    private func change(_ group: Int, by me: Int, _ operation: ChangeGroup.Operation, now: Date) -> ChangeGroup {
        ChangeGroup(group: group, by: me, operation, keys: keys, streamCap: streamCap, now: TimeFormat.rowTime(now))
    }

    private func run(_ change: ChangeGroup) async throws -> Change {
        try Self.change(of: try await scripts.run(change))
    }

    /// A change as steps (a tagged layout): the group's step, then its members'.
    private func run(_ steps: GroupChangeSteps, _ operation: GroupChangeStep.Operation, group: Int, by me: Int, now: Date)
        async throws -> Change
    {
        switch try await steps.run(operation, group: group, by: me, now: TimeFormat.rowTime(now)) {
        case .changed(_, let reply): return try Self.change(of: reply)
        case .status, .done: throw RedisError.server("group_step: unexpected reply")
        }
    }

    private static func change(of reply: ChangeGroup.Reply) throws -> Change {
        switch reply {
        case .changed(let change): return Change(change)
        case .needsAvatars(let users): throw AvatarKeysNeeded(users: users)
        case .refused(let refusal): throw refusal
        case .created: throw RedisError.server("group_update: unexpected reply 'created'")
        }
    }

    /// The script needs the avatars of these users (the members changed since we read them).
    private struct AvatarKeysNeeded: Error {
        let users: [Int]
    }

    /// The users whose keys the avatar recomputation may read: the first active
    /// members, and the users named (the one about to become active, those a `stale`
    /// answer named).
    private func avatarUsers(_ group: Int, plus named: [Int]) async throws -> [Int] {
        let users = try await members(of: group).filter { $0.status == .active }.prefix(Self.avatarCandidates).map(\.userID)
        return Array(Set(users + named))
    }

    /// Runs `body` again while the script needs avatar keys it did not get, with every
    /// key any answer named so far (under a burst of joins the first nine active members
    /// keep changing; the set of candidates named converges).
    private func retryingAvatar(_ body: ([Int]) async throws -> Change) async throws -> Change {
        var needed = Set<Int>()
        for _ in 1..<Self.avatarAttempts {
            do {
                return try await body(Array(needed))
            } catch let stale as AvatarKeysNeeded {
                needed.formUnion(stale.users)
            }
        }
        return try await body(Array(needed))
    }

    private func nextID(_ entity: String) async throws -> Int {
        guard let id = try await redis.send("INCR", RedisKeys.idCounter(entity)).throwingOnError().integer else {
            throw RedisError.server("INCR failed")
        }
        return Int(id)
    }

    /// Runs `body` again while the script answers `stale`.
    private func retryingStale<Result>(_ body: () async throws -> Result) async throws -> Result {
        for _ in 1..<Self.attempts {
            do {
                return try await body()
            } catch Refusal.stale {
                continue
            }
        }
        return try await body()
    }
}

extension ChangeGroup.Refusal: ScriptRefusal {}
