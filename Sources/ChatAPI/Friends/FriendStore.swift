import Foundation
import Model
import RedisClient

/// Friendships and friend requests in Redis (README, *State in Redis*): the `goodfriend`
/// rows in `chat:friends:{owner}`, the `goodfriendapply` rows in `chat:apply:{id}` with
/// their pair keys and per-recipient sets. Every change goes through `lua/friend_request.lua`
/// or `lua/friend_update.lua`, which append the entity events in the same step.
struct FriendStore: Sendable {
    /// Why a script refused a change: the short codes of `lua/friend_*.lua`.
    enum Refusal: String, ScriptRefusal {
        /// The target is gone or disabled (requests); no pending request to me with that
        /// id (handling); no row of mine, or (star, visibility) a blacklisted one.
        case missing
        /// A pending or agreed request from me to them exists already.
        case duplicate
        /// The target approves requests (`invite_confirm ≠ 0`): no automatic friendship.
        case needsConfirm = "needs_confirm"
        /// A pair key changed between our read and the script; the store reads again.
        case stale
    }

    /// The two rows of a friendship after an agreement or an automatic addition.
    struct Friendship: Sendable {
        /// How many of the two rows this change created (0: the friendship existed).
        let created: Int
        /// The acting user's row for the other user.
        let mine: FriendRow
        /// The other user's row for the acting user.
        let theirs: FriendRow
    }

    /// Tries of a change whose pair keys keep changing under it (each lost race means
    /// another change went through, so a few suffice).
    static let attempts = 8

    let accounts: AccountStore
    var scripts: RedisScripts { accounts.scripts }
    var redis: RedisClient { accounts.redis }

    // MARK: Reading

    /// The row `owner` keeps for `friend`.
    func row(owner: Int, friend: Int) async throws -> FriendRow? {
        try await redis.send("HGET", RedisKeys.friends(owner), String(friend)).throwingOnError().bytes.flatMap(FriendRow.init)
    }

    /// Every row `owner` keeps, by row id.
    func rows(of owner: Int) async throws -> [FriendRow] {
        let values = try await redis.send("HVALS", RedisKeys.friends(owner)).throwingOnError().array ?? []
        return values.compactMap { $0.bytes.flatMap(FriendRow.init) }.sorted { $0.id < $1.id }
    }

    func request(_ id: Int) async throws -> FriendRequestRow? {
        FriendRequestRow(hash: try await redis.send("HGETALL", RedisKeys.friendRequest(id)).throwingOnError().fieldValues)
    }

    /// A page of the requests to `user`, newest first, and how many of all are pending.
    func requests(to user: Int, offset: Int, limit: Int) async throws -> (rows: [FriendRequestRow], pending: Int) {
        let replies = try await redis.pipeline([
            RedisCommand("ZREVRANGE", RedisKeys.friendRequestsTo(user), offset, offset + limit - 1),
            RedisCommand("ZCARD", RedisKeys.pendingFriendRequestsTo(user)),
        ])
        let ids = try replies[0].throwingOnError().array?.compactMap { $0.string.flatMap { Int($0) } } ?? []
        let pending = Int(try replies[1].throwingOnError().integer ?? 0)
        guard !ids.isEmpty else { return ([], pending) }
        let rows = try await redis.pipeline(ids.map { RedisCommand("HGETALL", RedisKeys.friendRequest($0)) })
        return (rows.compactMap { FriendRequestRow(hash: $0.fieldValues) }, pending)
    }

    /// The user rows of `ids` that exist, in one round trip.
    func users(_ ids: [Int]) async throws -> [Int: UserRow] {
        guard !ids.isEmpty else { return [:] }
        let replies = try await redis.pipeline(ids.map { RedisCommand("HGETALL", RedisKeys.user($0)) })
        let users = replies.compactMap { UserRow(hash: $0.fieldValues) }
        return Dictionary(users.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    // MARK: Requests

    /// `applyfriend`: a pending request from `me` to `target`, replacing a refused or
    /// ignored one. Throws `.missing` or `.duplicate`.
    func apply(from me: UserRow, to target: Int, nickname: String, now: Date) async throws {
        let id = try await nextIDs(["goodfriendapply"])[0]
        try await retryingStale {
            let reply = try await runRequest(op: "apply", from: me, to: target, requestID: id, nickname: nickname, now: now)
            try Refusal.check(reply)
        }
    }

    /// `autoAddFriendAndAgree`: an agreed request from `me` to `target` and both rows.
    /// Throws `.missing`, `.needsConfirm` or `.duplicate`.
    func autoAdd(from me: UserRow, to target: Int, nickname: String, now: Date) async throws -> Friendship {
        let ids = try await nextIDs(["goodfriendapply", "goodfriend", "goodfriend"])
        return try await retryingStale {
            let reply = try await runRequest(
                op: "auto", from: me, to: target, requestID: ids[0], nickname: nickname, now: now,
                friendship: (ids[1], ids[2])
            )
            try Refusal.check(reply)
            return try Self.friendship(from: reply)
        }
    }

    /// `handleapply`: gives the pending request to `me` its status; on `agree`, creates the
    /// rows missing (`remark`: my remark for the applicant; theirs for me is my nickname).
    /// Throws `.missing` when the request is no longer pending. Returns the friendship
    /// on `agree`.
    func handle(_ request: FriendRequestRow, by me: UserRow, status: String, remark: String, now: Date) async throws -> Friendship? {
        let agree = status == "agree"
        let rowIDs = agree ? try await nextIDs(["goodfriend", "goodfriend"]) : []
        let reply = try await scripts.run(
            "friend_request",
            keys: [
                RedisKeys.friendRequest(request.id), RedisKeys.pendingFriendRequestsTo(me.id), StreamName.entities,
                RedisKeys.friends(me.id), RedisKeys.friends(request.userID), RedisKeys.quota(me.id), RedisKeys.quota(request.userID),
            ],
            arguments: [
                "handle", String(accounts.streamCap), TimeFormat.rowTime(now), String(me.id), String(request.userID), status,
                remark, me.nickname, rowIDs.first.map(String.init) ?? "", rowIDs.last.map(String.init) ?? "",
            ]
        )
        try Refusal.check(reply)
        return agree ? try Self.friendship(from: reply) : nil
    }

    /// One run of `apply` or `auto`, with the pair key's current request as the old one.
    private func runRequest(
        op: String, from me: UserRow, to target: Int, requestID: Int, nickname: String, now: Date,
        friendship rowIDs: (mine: Int, theirs: Int)? = nil
    ) async throws -> RedisReply {
        let pair = RedisKeys.friendRequestPair(from: me.id, to: target)
        let old = try await redis.send("GET", pair).throwingOnError().string ?? ""
        var keys: [any RedisArgument] = [
            RedisKeys.user(target), pair, RedisKeys.friendRequest(requestID), RedisKeys.friendRequestsTo(target),
            RedisKeys.pendingFriendRequestsTo(target), StreamName.entities,
        ]
        var arguments: [any RedisArgument] = [
            op, String(accounts.streamCap), TimeFormat.rowTime(now), String(me.id), String(target), String(requestID), nickname, old,
        ]
        if let rowIDs {
            keys += [RedisKeys.friends(me.id), RedisKeys.friends(target), RedisKeys.quota(me.id), RedisKeys.quota(target)]
            arguments += [String(rowIDs.mine), String(rowIDs.theirs), me.nickname]
        }
        if let oldID = Int(old) { keys.append(RedisKeys.friendRequest(oldID)) }
        return try await scripts.run("friend_request", keys: keys, arguments: arguments)
    }

    // MARK: Friendships

    /// `setblackgoodfriend`: toggles `isblack` of my row. Throws `.missing`.
    func toggleBlacklist(owner: Int, friend: Int, now: Date) async throws {
        try await update("black", owner: owner, friend: friend, now: now)
    }

    /// `setstargoodfriend`: toggles `ismystarfriend` of my row (not blacklisted). Throws `.missing`.
    func toggleStar(owner: Int, friend: Int, now: Date) async throws {
        try await update("star", owner: owner, friend: friend, now: now)
    }

    /// `setmeOrfriendCanSee`: sets both visibility flags of my row (not blacklisted). Throws `.missing`.
    func setVisibility(owner: Int, friend: Int, friendLooksAtMe: Int, iLookAtFriend: Int, now: Date) async throws {
        try await update("see", owner: owner, friend: friend, now: now, extra: [String(friendLooksAtMe), String(iLookAtFriend)])
    }

    private func update(_ op: String, owner: Int, friend: Int, now: Date, extra: [String] = []) async throws {
        let reply = try await scripts.run(
            "friend_update",
            keys: [RedisKeys.friends(owner), StreamName.entities],
            arguments: [op, String(accounts.streamCap), TimeFormat.rowTime(now), String(friend)] + extra
        )
        try Refusal.check(reply)
    }

    /// `deletegoodfriend`: both rows and both directions' requests. Throws `.missing`
    /// when I keep no row for them.
    func delete(owner me: Int, friend: Int, now: Date) async throws {
        let pairs = [RedisKeys.friendRequestPair(from: me, to: friend), RedisKeys.friendRequestPair(from: friend, to: me)]
        try await retryingStale {
            let current = try await redis.pipeline(pairs.map { RedisCommand("GET", $0) })
            let ids = try current.map { try $0.throwingOnError().string ?? "" }
            let keys: [any RedisArgument] = [
                RedisKeys.friends(me), StreamName.entities, RedisKeys.friends(friend), pairs[0], pairs[1],
                RedisKeys.friendRequestsTo(friend), RedisKeys.pendingFriendRequestsTo(friend),
                RedisKeys.friendRequestsTo(me), RedisKeys.pendingFriendRequestsTo(me),
            ] + ids.compactMap { Int($0) }.map { RedisKeys.friendRequest($0) }
            let reply = try await scripts.run(
                "friend_update", keys: keys,
                arguments: ["delete", String(accounts.streamCap), TimeFormat.rowTime(now), String(friend), String(me), ids[0], ids[1]]
            )
            try Refusal.check(reply)
        }
    }

    // MARK: Helpers

    /// Ids from `chat:id:{entity}`, taken before the script so that every key it
    /// touches is in KEYS (an id a refused change does not use is simply skipped).
    private func nextIDs(_ entities: [String]) async throws -> [Int] {
        let replies = try await redis.pipeline(entities.map { RedisCommand("INCR", RedisKeys.idCounter($0)) })
        return try replies.map { reply in
            guard let id = try reply.throwingOnError().integer else { throw RedisError.server("INCR failed") }
            return Int(id)
        }
    }

    /// Runs `body` again while a script answers `stale`.
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

    /// `{created, my row JSON, their row JSON}` of `friend_request.lua`.
    private static func friendship(from reply: RedisReply) throws -> Friendship {
        guard let parts = reply.array, parts.count == 3, let created = parts[0].integer,
              let mine = parts[1].bytes.flatMap(FriendRow.init), let theirs = parts[2].bytes.flatMap(FriendRow.init)
        else { throw RedisError.server("friend_request: unexpected reply \(reply)") }
        return Friendship(created: Int(created), mine: mine, theirs: theirs)
    }
}
