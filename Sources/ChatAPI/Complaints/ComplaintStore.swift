import Foundation
import Model
import RedisClient

/// Complaints in Redis (README, *Complaints*): the `chat_complaint` rows in
/// `chat:complaint:{id}` and each user's live ids in `chat:user:{uid}:complaints`. Every
/// change goes through `lua/complaint_change.lua`, which appends the entity event in the
/// same step.
package struct ComplaintStore: Sendable {
    /// Why the script refused a change: its short codes.
    enum Refusal: String, ScriptRefusal {
        /// No row of mine with that id, or it is deleted.
        case missing
        /// Update: an operator started handling it (`status ≠ 0`).
        case processing
        /// Create: no such user or group.
        case target
        /// Create: the user has `perUserCap` complaints not deleted.
        case full
    }

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

    /// Complaints not deleted a user may have: the list is answered whole (API.md has no
    /// pages), so this bounds it and the user's Redis footprint.
    static let perUserCap = 500

    let scripts: RedisScripts
    let streamCap: Int

    package init(scripts: RedisScripts, streamCap: Int) {
        self.scripts = scripts
        self.streamCap = streamCap
    }
    var redis: RedisClient { scripts.client }

    /// A complaint by id, whoever's it is and deleted or not.
    func complaint(_ id: Int) async throws -> ComplaintRow? {
        ComplaintRow(hash: try await redis.send("HGETALL", RedisKeys.complaint(id)).throwingOnError().fieldValues)
    }

    /// The user's complaints not deleted, newest first.
    func complaints(of user: Int) async throws -> [ComplaintRow] {
        let ids = try await redis.send("ZREVRANGE", RedisKeys.complaintsOfUser(user), 0, -1).throwingOnError().array ?? []
        let keys = ids.compactMap { $0.string.flatMap { Int($0) } }.map { RedisKeys.complaint($0) }
        guard !keys.isEmpty else { return [] }
        let rows = try await redis.pipeline(keys.map { RedisCommand("HGETALL", $0) })
        return try rows.compactMap { ComplaintRow(hash: try $0.throwingOnError().fieldValues) }.filter { !$0.isDeleted }
    }

    /// `complaint/create`: a new row of `me`'s, status 0. Throws `.target` or `.full`.
    func create(_ complaint: NewComplaint, by me: Int, now: Date) async throws -> Int {
        guard let id = try await redis.send("INCR", RedisKeys.idCounter("complaint")).throwingOnError().integer else {
            throw RedisError.server("INCR failed")
        }
        let target = complaint.targetType == .group ? RedisKeys.group(complaint.targetID) : RedisKeys.user(complaint.targetID)
        let reply = try await scripts.run(
            "complaint_change",
            keys: [RedisKeys.complaint(Int(id)), RedisKeys.complaintsOfUser(me), StreamName.entities, target],
            arguments: [
                "create", String(streamCap), TimeFormat.rowTime(now), String(me), String(id), String(complaint.targetID),
                complaint.targetType.rawValue, complaint.reason, JSONSerializer.string(.object(complaint.optional)),
                String(Self.perUserCap),
            ]
        )
        try Refusal.check(reply)
        return Int(id)
    }

    /// `complaint/update/:id`: sets `content` and/or `images` of my pending row. Throws
    /// `.missing` or `.processing`.
    func update(_ id: Int, by me: Int, changes: JSONObject, now: Date) async throws {
        let reply = try await scripts.run(
            "complaint_change",
            keys: [RedisKeys.complaint(id), StreamName.entities],
            arguments: ["update", String(streamCap), TimeFormat.rowTime(now), String(me), String(id), JSONSerializer.string(.object(changes))]
        )
        try Refusal.check(reply)
    }

    /// `complaint/delete/:id`: marks my row deleted. Throws `.missing`.
    func delete(_ id: Int, by me: Int, now: Date) async throws {
        let reply = try await scripts.run(
            "complaint_change",
            keys: [RedisKeys.complaint(id), RedisKeys.complaintsOfUser(me), StreamName.entities],
            arguments: ["delete", String(streamCap), TimeFormat.rowTime(now), String(me), String(id)]
        )
        try Refusal.check(reply)
    }
}
