import ChatScripts
import Foundation
import Model
import RedisClient

/// Friendships and friend requests in Redis (docs/architecture.md, *State in Redis*): the `goodfriend`
/// rows in `chat:friends:{owner}`, the `goodfriendapply` rows in `chat:apply:{id}` with
/// their pair keys and per-recipient sets. Every change goes through `lua/friend_request.lua`
/// or `lua/friend_update.lua`, which append the entity events in the same step.
struct FriendStore: Sendable {
    /// Why a script refused a change: the error codes of `lua/friend_*.lua`.
    typealias Refusal = FriendRefusal

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
    /// The layout's names: a request lives in its recipient's partition.
    let keys: RedisKeys
    var scripts: RedisScripts { accounts.scripts }
    var redis: RedisClient { accounts.redis }
    /// Operations between users of two partitions.
    var steps: FriendSteps { FriendSteps(scripts: scripts, keys: keys, streamCap: accounts.streamCap) }

    init(accounts: AccountStore, keys: RedisKeys) {
        self.accounts = accounts
        self.keys = keys
    }

    // MARK: Reading

    /// The row `owner` keeps for `friend`.
    func row(owner: Int, friend: Int) async throws -> FriendRow? {
        try await redis.send("HGET", keys.friends(owner), String(friend)).throwingOnError().bytes.flatMap(FriendRow.init)
    }

    /// Every row `owner` keeps, by row id.
    func rows(of owner: Int) async throws -> [FriendRow] {
        let values = try await redis.send("HVALS", keys.friends(owner)).throwingOnError().array ?? []
        return values.compactMap { $0.bytes.flatMap(FriendRow.init) }.sorted { $0.id < $1.id }
    }

    /// Request `id` to `recipient` (it lives in the recipient's partition).
    func request(_ id: Int, to recipient: Int) async throws -> FriendRequestRow? {
        FriendRequestRow(hash: try await redis.send("HGETALL", keys.friendRequest(id, to: recipient)).throwingOnError().fieldValues)
    }

    /// A page of the requests to `user`, newest first, and how many of all are pending.
    func requests(to user: Int, offset: Int, limit: Int) async throws -> (rows: [FriendRequestRow], pending: Int) {
        let replies = try await redis.pipeline([
            RedisCommand("ZREVRANGE", keys.friendRequestsTo(user), offset, offset + limit - 1),
            RedisCommand("ZCARD", keys.pendingFriendRequestsTo(user)),
        ])
        let ids = try replies[0].throwingOnError().array?.compactMap { $0.string.flatMap { Int($0) } } ?? []
        let pending = Int(try replies[1].throwingOnError().integer ?? 0)
        guard !ids.isEmpty else { return ([], pending) }
        let rows = try await redis.pipeline(ids.map { RedisCommand("HGETALL", keys.friendRequest($0, to: user)) })
        return (rows.compactMap { FriendRequestRow(hash: $0.fieldValues) }, pending)
    }

    /// The user rows of `ids` that exist, in one round trip.
    func users(_ ids: [Int]) async throws -> [Int: UserRow] {
        guard !ids.isEmpty else { return [:] }
        let replies = try await redis.pipeline(ids.map { RedisCommand("HGETALL", keys.user($0)) })
        let users = replies.compactMap { UserRow(hash: $0.fieldValues) }
        return Dictionary(users.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    // MARK: Requests

    /// `applyfriend`: a pending request from `me` to `target`, replacing a refused or
    /// ignored one. Throws `.missing`, `.blocked` or `.duplicate`.
    func apply(from me: UserRow, to target: Int, nickname: String, now: Date) async throws {
        let id = try await nextIDs(["goodfriendapply"])[0]
        try await retryingStale {
            let request = try await newRequest(from: me, to: target, requestID: id, nickname: nickname)
            if case .refused(let refusal) = try await run(.apply(request), now: now) { throw refusal }
        }
    }

    /// `autoAddFriendAndAgree`: an agreed request from `me` to `target` and both rows.
    /// Throws `.missing`, `.blocked`, `.needsConfirm` or `.duplicate`.
    func autoAdd(from me: UserRow, to target: Int, nickname: String, now: Date) async throws -> Friendship {
        let ids = try await nextIDs(["goodfriendapply", "goodfriend", "goodfriend"])
        let rows = ChangeFriendRequest.RowIDs(mine: ids[1], theirs: ids[2])
        if steps.split(me.id, target) {
            let request = try await newRequest(from: me, to: target, requestID: ids[0], nickname: nickname)
            let made = try await steps.autoAdd(request, rows: rows, myNickname: me.nickname, now: TimeFormat.rowTime(now))
            return try Self.friendship(from: .befriended(made))
        }
        return try await retryingStale {
            let request = try await newRequest(from: me, to: target, requestID: ids[0], nickname: nickname)
            let reply = try await run(.auto(request, rows: rows, myNickname: me.nickname), now: now)
            return try Self.friendship(from: reply)
        }
    }

    /// `handleapply`: gives the pending request to `me` its status; on `agree`, creates the
    /// rows missing (`remark`: my remark for the applicant; theirs for me is my nickname).
    /// Throws `.missing` when the request is no longer pending, `.blocked` when I agree
    /// and the applicant blocks me. Returns the friendship
    /// on `agree`.
    func handle(_ request: FriendRequestRow, by me: UserRow, status: String, remark: String, now: Date) async throws -> Friendship? {
        let agree = status == "agree"
        let rowIDs = agree ? try await nextIDs(["goodfriend", "goodfriend"]) : []
        if steps.split(me.id, request.userID) {
            let rows = try await steps.handle(
                requestID: request.id, me: me.id, applicant: request.userID, status: status, remark: remark,
                myNickname: me.nickname, rows: agree ? .init(mine: rowIDs[0], theirs: rowIDs[1]) : nil, now: TimeFormat.rowTime(now)
            )
            return try rows.map { try Self.friendship(from: .befriended($0)) }
        }
        let reply = try await run(
            .handle(
                requestID: request.id, me: me.id, applicant: request.userID, status: status, remark: remark,
                myNickname: me.nickname, rows: agree ? .init(mine: rowIDs[0], theirs: rowIDs[1]) : nil
            ),
            now: now
        )
        if agree { return try Self.friendship(from: reply) }
        try Self.done(reply)
        return nil
    }

    /// A new request, with the pair key's current request as the old one.
    private func newRequest(from me: UserRow, to target: Int, requestID: Int, nickname: String) async throws -> ChangeFriendRequest.Request {
        let old = try await redis.send("GET", keys.friendRequestPair(from: me.id, to: target)).throwingOnError().string ?? ""
        return .init(me: me.id, to: target, requestID: requestID, nickname: nickname, oldRequestID: old)
    }

    private func run(_ operation: ChangeFriendRequest.Operation, now: Date) async throws -> ChangeFriendRequest.Reply {
        try await scripts.run(ChangeFriendRequest(operation, keys: keys, streamCap: accounts.streamCap, now: TimeFormat.rowTime(now)))
    }

    // MARK: Friendships

    /// `setblackgoodfriend`: toggles my block of `friend` and `isblack` of my row, which
    /// mirrors it; without a row, lifts my block. Throws `.missing` (no row, no block).
    func toggleBlacklist(owner: Int, friend: Int, now: Date) async throws {
        // A block id from chat:id:block inside the script: one Redis only.
        if keys.layout.isTagged { return try await steps.toggleBlacklist(owner: owner, friend: friend, now: TimeFormat.rowTime(now)) }
        try await update(.black, owner: owner, friend: friend, now: now)
    }

    /// `setstargoodfriend`: toggles `ismystarfriend` of my row (not blacklisted). Throws `.missing`.
    func toggleStar(owner: Int, friend: Int, now: Date) async throws {
        try await update(.star, owner: owner, friend: friend, now: now)
    }

    /// `setmeOrfriendCanSee`: sets both visibility flags of my row (not blacklisted). Throws `.missing`.
    func setVisibility(owner: Int, friend: Int, friendLooksAtMe: Int, iLookAtFriend: Int, now: Date) async throws {
        try await update(.see(friendLooksAtMe: friendLooksAtMe, iLookAtFriend: iLookAtFriend), owner: owner, friend: friend, now: now)
    }

    private func update(_ operation: ChangeFriendship.Operation, owner: Int, friend: Int, now: Date) async throws {
        let change = ChangeFriendship(
            owner: owner, friend: friend, operation, keys: keys, streamCap: accounts.streamCap, now: TimeFormat.rowTime(now)
        )
        if case .refused(let refusal) = try await scripts.run(change) { throw refusal }
    }

    /// `deletegoodfriend`: both rows and both directions' requests (blocks stay; a row
    /// blacklisted before blocks existed becomes one). Throws `.missing` when I keep no
    /// row for them.
    func delete(owner me: Int, friend: Int, now: Date) async throws {
        // Steps on a partitioned layout, even within one partition: a blacklisted row's
        // block id comes from chat:id:block, which the one-partition script takes inside.
        if keys.layout.isTagged { return try await steps.delete(owner: me, friend: friend, now: TimeFormat.rowTime(now)) }
        let pairs = [keys.friendRequestPair(from: me, to: friend), keys.friendRequestPair(from: friend, to: me)]
        try await retryingStale {
            let current = try await redis.pipeline(pairs.map { RedisCommand("GET", $0) })
            let ids = try current.map { try $0.throwingOnError().string ?? "" }
            try await update(.delete(myRequestID: ids[0], theirRequestID: ids[1]), owner: me, friend: friend, now: now)
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

    /// The friendship an `auto` or `agree` made; throws a refusal.
    private static func friendship(from reply: ChangeFriendRequest.Reply) throws -> Friendship {
        switch reply {
        case .befriended(let rows):
            guard let mine = FriendRow(rows.mine), let theirs = FriendRow(rows.theirs) else {
                throw RedisError.server("friend_request: unreadable rows")
            }
            return Friendship(created: rows.created, mine: mine, theirs: theirs)
        case .refused(let refusal):
            throw refusal
        case .requested, .handled:
            throw RedisError.server("friend_request: unexpected reply \(reply)")
        }
    }

    /// A change without a friendship; throws a refusal.
    private static func done(_ reply: ChangeFriendRequest.Reply) throws {
        if case .refused(let refusal) = reply { throw refusal }
    }
}

extension FriendRefusal: ScriptRefusal {}
