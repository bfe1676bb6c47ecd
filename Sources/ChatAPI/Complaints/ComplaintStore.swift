import ChatScripts
import Foundation
import Model
import RedisClient

/// Complaints in Redis (docs/api.md, *Complaints and Q&A*): the `chat_complaint` rows in
/// `chat:complaint:{id}` and each user's live ids in `chat:user:{uid}:complaints`. Every
/// change goes through `lua/complaint_change.lua`, which appends the entity event in the
/// same step.
package struct ComplaintStore: Sendable {
    /// Why the script refused a change: its error codes.
    typealias Refusal = ChangeComplaint.Refusal

    /// What `complaint/create` stores besides the caller and the time.
    struct NewComplaint: Sendable {
        enum TargetType: String, Sendable, CaseIterable {
            case group, single
        }

        let targetID: Int
        let targetType: TargetType
        let reason: String
        /// The optional text columns given: `target_name`, `content`, `images`, `complaint_chatinfo`.
        let optional: JSONObject
    }

    /// Complaints not deleted a user may have: the list is answered whole (docs/api.md has no
    /// pages), so this bounds it and the user's Redis footprint.
    static let perUserCap = 500

    let scripts: RedisScripts
    let streamCap: Int
    /// The layout's names: a complaint is in its reporter's partition.
    let keys: RedisKeys

    package init(scripts: RedisScripts, streamCap: Int, keys: RedisKeys) {
        self.scripts = scripts
        self.streamCap = streamCap
        self.keys = keys
    }
    var redis: RedisClient { scripts.client }

    /// A complaint of `reporter`'s by id, deleted or not (another user's is in another
    /// partition, or has another `user_id`: the caller compares).
    func complaint(_ id: Int, reporter: Int) async throws -> ComplaintRow? {
        ComplaintRow(hash: try await redis.send("HGETALL", keys.complaint(id, reporter: reporter)).throwingOnError().fieldValues)
    }

    /// The user's complaints not deleted, newest first.
    func complaints(of user: Int) async throws -> [ComplaintRow] {
        let ids = try await redis.send("ZREVRANGE", keys.complaintsOfUser(user), 0, -1).throwingOnError().array ?? []
        let rowKeys = ids.compactMap { $0.string.flatMap { Int($0) } }.map { keys.complaint($0, reporter: user) }
        guard !rowKeys.isEmpty else { return [] }
        let rows = try await redis.pipeline(rowKeys.map { RedisCommand("HGETALL", $0) })
        return try rows.compactMap { ComplaintRow(hash: try $0.throwingOnError().fieldValues) }.filter { !$0.isDeleted }
    }

    /// `complaint/create`: a new row of `me`'s, status 0. Throws `.target` or `.full`.
    func create(_ complaint: NewComplaint, by me: Int, now: Date) async throws -> Int {
        guard let id = try await redis.send("INCR", RedisKeys.idCounter("complaint")).throwingOnError().integer else {
            throw RedisError.server("INCR failed")
        }
        let target: ChangeComplaint.Target = complaint.targetType == .group ? .group(complaint.targetID) : .user(complaint.targetID)
        // A target in another partition is looked up first: the script may touch my partition only.
        let targetPartition = complaint.targetType == .group
            ? keys.layout.partition(ofGroup: complaint.targetID) : keys.layout.partition(ofUser: complaint.targetID)
        let targetChecked = targetPartition != keys.layout.partition(ofUser: me)
        if targetChecked {
            let key = complaint.targetType == .group ? keys.group(complaint.targetID) : keys.user(complaint.targetID)
            guard try await redis.send("EXISTS", key).throwingOnError().integer == 1 else { throw ChangeComplaint.Refusal.target }
        }
        try await change(
            Int(id), by: me, now: now, targetChecked: targetChecked,
            .create(
                target: target, reason: complaint.reason, optional: JSONSerializer.string(.object(complaint.optional)),
                limit: Self.perUserCap
            )
        )
        return Int(id)
    }

    /// `complaint/update/:id`: sets `content` and/or `images` of my pending row. Throws
    /// `.missing` or `.processing`.
    func update(_ id: Int, by me: Int, changes: JSONObject, now: Date) async throws {
        try await change(id, by: me, now: now, .update(changes: JSONSerializer.string(.object(changes))))
    }

    /// `complaint/delete/:id`: marks my row deleted. Throws `.missing`.
    func delete(_ id: Int, by me: Int, now: Date) async throws {
        try await change(id, by: me, now: now, .delete)
    }

    private func change(
        _ id: Int, by me: Int, now: Date, targetChecked: Bool = false, _ operation: ChangeComplaint.Operation
    ) async throws {
        let reply = try await scripts.run(
            ChangeComplaint(
                id, by: me, operation, keys: keys, targetChecked: targetChecked, streamCap: streamCap, now: TimeFormat.rowTime(now)
            )
        )
        if case .refused(let refusal) = reply { throw refusal }
    }
}

extension ChangeComplaint.Refusal: ScriptRefusal {}
