import ChatGateway
import ChatScripts
import Foundation
import Model
import RedisClient

/// Friend operations between users of two partitions as steps of `lua/friend_step.lua`
/// (docs/architecture.md, *Redis Cluster: partitions and steps*): the actor's partition
/// first (its checks and own change, a pending record), the other user's (its checks,
/// its row, an `applied` marker), the actor's again (commit or undo). `repair` finishes
/// what a crash between steps left: the same later steps, run from the pending record.
package struct FriendSteps: PendingStepRepair {
    /// How long an operation may take before the repairer finishes it.
    package static let patience: Duration = .seconds(10)

    /// What the later steps of an operation need, kept in its pending record.
    package struct Record: Codable, Sendable, Equatable {
        package enum Kind: String, Codable, Sendable {
            /// autoAddFriendAndAgree: the target's step, then my row.
            case auto
            /// handleapply `agree`: the applicant's step, then my row (or the request back).
            case handle
            /// deletegoodfriend: the friend's step, then done.
            case delete
        }

        package var kind: Kind
        /// The actor (whose partition keeps the record) and the other user.
        package var me: Int
        package var other: Int
        /// The time the operation's rows carry ('YYYY-MM-DD HH:mm:ss').
        package var now: String
        package var requestID: Int?
        package var nickname: String?
        package var myRowID: Int?
        package var theirRowID: Int?
        /// My nickname: the other user's remark for me.
        package var myNickname: String?
        /// My remark for the other user.
        package var remark: String?
        package var blockID: Int?

        package init(kind: Kind, me: Int, other: Int, now: String) {
            self.kind = kind
            self.me = me
            self.other = other
            self.now = now
        }
    }

    let scripts: RedisScripts
    let keys: RedisKeys
    let streamCap: Int
    var redis: RedisClient { scripts.client }

    package init(scripts: RedisScripts, keys: RedisKeys, streamCap: Int) {
        self.scripts = scripts
        self.keys = keys
        self.streamCap = streamCap
    }

    /// Whether `a` and `b` need steps: their keys are in two partitions.
    func split(_ a: Int, _ b: Int) -> Bool {
        keys.layout.partition(ofUser: a) != keys.layout.partition(ofUser: b)
    }

    package func run(_ operation: FriendStep.Operation, id: String, now: String) async throws -> FriendStep.Reply {
        try await scripts.run(FriendStep(operation, operationID: id, keys: keys, streamCap: streamCap, now: now))
    }

    package func pending(_ record: Record, at date: Date = Date()) throws -> FriendStep.Pending {
        let deadline = Int64((date.timeIntervalSince1970 * 1000).rounded()) + Self.patience.components.seconds * 1000
        return FriendStep.Pending(deadline: deadline, record: String(decoding: try JSONEncoder().encode(record), as: UTF8.self))
    }

    // MARK: autoAddFriendAndAgree

    /// Step 1, the pending record; then the rest (`finishAuto`).
    func autoAdd(_ request: ChangeFriendRequest.Request, rows: ChangeFriendRequest.RowIDs, myNickname: String, now: String)
        async throws -> ChangeFriendRequest.Friendship
    {
        var record = Record(kind: .auto, me: request.me, other: request.to, now: now)
        record.requestID = request.requestID
        record.nickname = request.nickname
        record.myRowID = rows.mine
        record.theirRowID = rows.theirs
        record.myNickname = myNickname
        let id = UUID().uuidString
        _ = try await run(.begin(me: request.me, try pending(record)), id: id, now: now)
        return try await finishAuto(record, id: id, oldRequestID: request.oldRequestID)
    }

    /// The target's step (its checks decide; read the pair key again while it is stale), then mine.
    private func finishAuto(_ record: Record, id: String, oldRequestID: String?) async throws
        -> ChangeFriendRequest.Friendship
    {
        guard let requestID = record.requestID, let myRowID = record.myRowID, let theirRowID = record.theirRowID else {
            throw RedisError.server("friend_step: incomplete record \(record)")
        }
        var old = oldRequestID
        var peer: FriendStep.Reply = .refused(.stale)
        for _ in 1...FriendStore.attempts {
            let current: String
            if let given = old { current = given } else { current = try await pairRequest(from: record.me, to: record.other) }
            old = nil
            let request = ChangeFriendRequest.Request(
                me: record.me, to: record.other, requestID: requestID, nickname: record.nickname ?? "", oldRequestID: current
            )
            peer = try await run(.autoTarget(request, theirRowID: theirRowID, myNickname: record.myNickname ?? ""), id: id, now: record.now)
            if peer != .refused(.stale) { break }
        }
        if case .refused(.stale) = peer { throw FriendRefusal.stale }
        let mine = try await run(
            .autoCommit(me: record.me, friend: record.other, myRowID: myRowID, remark: "", outcome: Self.outcome(peer)),
            id: id, now: record.now
        )
        return try Self.friendship(peer: peer, mine: mine)
    }

    // MARK: handleapply

    /// handleapply on two partitions: my request's status (step 1); on `agree` the
    /// applicant's step and mine. Nil unless `agree`.
    func handle(
        requestID: Int, me: Int, applicant: Int, status: String, remark: String, myNickname: String,
        rows: ChangeFriendRequest.RowIDs?, now: String
    ) async throws -> ChangeFriendRequest.Friendship? {
        let id = UUID().uuidString
        var record = Record(kind: .handle, me: me, other: applicant, now: now)
        record.requestID = requestID
        record.myRowID = rows?.mine
        record.theirRowID = rows?.theirs
        record.myNickname = myNickname
        record.remark = remark
        let agree = status == "agree" && rows != nil
        let begun = try await run(
            .handleBegin(requestID: requestID, me: me, applicant: applicant, status: status, agree ? try pending(record) : nil),
            id: id, now: now
        )
        if case .refused(let refusal) = begun { throw refusal }
        guard agree else { return nil }
        return try await finishHandle(record, id: id)
    }

    private func finishHandle(_ record: Record, id: String) async throws -> ChangeFriendRequest.Friendship {
        guard let requestID = record.requestID, let myRowID = record.myRowID, let theirRowID = record.theirRowID else {
            throw RedisError.server("friend_step: incomplete record \(record)")
        }
        let peer = try await run(
            .handlePeer(me: record.me, applicant: record.other, theirRowID: theirRowID, myNickname: record.myNickname ?? ""),
            id: id, now: record.now
        )
        let mine = try await run(
            .handleCommit(
                requestID: requestID, me: record.me, applicant: record.other, myRowID: myRowID, remark: record.remark ?? "",
                outcome: Self.outcome(peer)
            ),
            id: id, now: record.now
        )
        return try Self.friendship(peer: peer, mine: mine)
    }

    // MARK: setblackgoodfriend, deletegoodfriend

    /// setblackgoodfriend: my partition only, with a block id taken before.
    func toggleBlacklist(owner: Int, friend: Int, now: String) async throws {
        let blockID = try await nextBlockID()
        if case .refused(let refusal) = try await run(.black(me: owner, friend: friend, blockID: blockID), id: "", now: now) {
            throw refusal
        }
    }

    /// deletegoodfriend: my side (step 1, which decides: my row must exist), the friend's, done.
    func delete(owner me: Int, friend: Int, now: String) async throws {
        let id = UUID().uuidString
        var record = Record(kind: .delete, me: me, other: friend, now: now)
        record.blockID = try await nextBlockID()
        let pending = try pending(record)
        var begun: FriendStep.Reply = .refused(.stale)
        for _ in 1...FriendStore.attempts {
            let theirs = try await pairRequest(from: friend, to: me)
            begun = try await run(
                .deleteMine(me: me, friend: friend, theirRequestID: theirs, blockID: record.blockID ?? 0, pending), id: id, now: now
            )
            if begun != .refused(.stale) { break }
        }
        if case .refused(let refusal) = begun { throw refusal }
        try await finishDelete(record, id: id)
    }

    private func finishDelete(_ record: Record, id: String) async throws {
        // Their block id: another one than mine (each side may turn a blacklisted row into a block).
        let blockID = try await nextBlockID()
        var reply: FriendStep.Reply = .refused(.stale)
        for _ in 1...FriendStore.attempts {
            let mine = try await pairRequest(from: record.me, to: record.other)
            reply = try await run(
                .deleteTheirs(me: record.me, friend: record.other, myRequestID: mine, blockID: blockID), id: id, now: record.now
            )
            if reply != .refused(.stale) { break }
        }
        if case .refused(let refusal) = reply { throw refusal }
        _ = try await run(.finish(me: record.me), id: id, now: record.now)
    }

    // MARK: Repair

    package var operation: String { "friend" }

    /// Finishes the operations of `partition` whose deadline passed (at most `limit`):
    /// their later steps run again, each a no-op where it ran before. Returns how many.
    package func repair(partition: Int, now date: Date = Date(), limit: Int = PendingStepRepairer.batch) async throws -> Int {
        try await repairExpired(partition: partition, now: Int64((date.timeIntervalSince1970 * 1000).rounded()), limit: limit)
    }

    package func repairExpired(partition: Int, now nowMS: Int64, limit: Int) async throws -> Int {
        let ids = try await redis.expiredPending(keys.socialPending(partition: partition), now: nowMS, limit: limit)
        var repaired = 0
        for id in ids {
            let text = try await redis.send("HGET", keys.socialPendingRecords(partition: partition), id).throwingOnError().bytes
            guard let text, let record = try? JSONDecoder().decode(Record.self, from: Data(text)) else {
                // A record that cannot be read cannot be finished: drop it rather than retry it forever.
                _ = try await redis.send("ZREM", keys.socialPending(partition: partition), id).throwingOnError()
                _ = try await redis.send("HDEL", keys.socialPendingRecords(partition: partition), id).throwingOnError()
                continue
            }
            do {
                switch record.kind {
                case .auto: _ = try await finishAuto(record, id: id, oldRequestID: nil)
                case .handle: _ = try await finishHandle(record, id: id)
                case .delete: try await finishDelete(record, id: id)
                }
            } catch is FriendRefusal {
                // Refused by the other side: the commit step has dropped the record.
            }
            repaired += 1
        }
        return repaired
    }

    /// Every partition's expired operations.
    package func repairAll(now date: Date = Date()) async throws -> Int {
        var repaired = 0
        for partition in 0..<keys.layout.partitions {
            repaired += try await repair(partition: partition, now: date)
        }
        return repaired
    }

    // MARK: Helpers

    private func pairRequest(from: Int, to: Int) async throws -> String {
        try await redis.send("GET", keys.friendRequestPair(from: from, to: to)).throwingOnError().string ?? ""
    }

    private func nextBlockID() async throws -> Int {
        guard let id = try await redis.send("INCR", RedisKeys.idCounter(ChangeFriendship.blockEntity)).throwingOnError().integer else {
            throw RedisError.server("INCR failed")
        }
        return Int(id)
    }

    private static func outcome(_ reply: FriendStep.Reply) -> String {
        if case .refused(let refusal) = reply { return refusal.rawValue }
        return "ok"
    }

    /// The friendship both steps made: their row from the other partition, mine from my commit.
    private static func friendship(peer: FriendStep.Reply, mine: FriendStep.Reply) throws -> ChangeFriendRequest.Friendship {
        if case .refused(let refusal) = peer { throw refusal }
        if case .refused(let refusal) = mine { throw refusal }
        guard case .row(let theirCreated, let theirs) = peer, case .row(let myCreated, let json) = mine else {
            throw RedisError.server("friend_step: unexpected replies \(peer), \(mine)")
        }
        return ChangeFriendRequest.Friendship(created: myCreated + theirCreated, mine: json, theirs: theirs)
    }
}
