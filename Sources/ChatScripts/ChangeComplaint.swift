import Model
import RedisClient

/// `lua/complaint_change.lua`: creates, updates or (softly) deletes a complaint of mine,
/// with its entity event.
public struct ChangeComplaint: ChatScript {
    public static let scriptName = "complaint_change"
    private static let arguments = ["op", "stream_cap", "now", "me", "id"]
    public static let layouts = [
        ScriptLayout(
            operation: "create", keys: ["complaint", "mine", "stream", "target", "all", "open"],
            arguments: arguments + ["target_id", "target_type", "reason", "optional", "limit"]
        ),
        ScriptLayout(operation: "update", keys: ["complaint", "stream"], arguments: arguments + ["changes"]),
        ScriptLayout(operation: "delete", keys: ["complaint", "mine", "stream"], arguments: arguments),
    ]

    /// Who or what a complaint is about.
    public enum Target: Sendable {
        case user(Int)
        case group(Int)
    }

    public enum Operation: Sendable {
        /// `optional`: a JSON object of the optional text columns given; `limit`: how many
        /// complaints not deleted a user may have.
        case create(target: Target, reason: String, optional: String, limit: Int)
        /// `changes`: a JSON object of the columns to set (content, images).
        case update(changes: String)
        case delete
    }

    public enum Reply: Sendable, Equatable {
        /// The row's new version.
        case version(Int)
        case refused(Refusal)
    }

    public enum Refusal: String, Error, Sendable, Hashable {
        /// No row of mine with that id, or it is deleted.
        case missing
        /// Update: an operator started handling it (`status ≠ 0`).
        case processing
        /// Create: no such user or group.
        case target
        /// Create: the user has the cap of complaints not deleted.
        case full
        /// Create: a row with the new id exists (the id counter went back); nothing written.
        case idTaken = "id_taken"
    }

    public var id: Int
    public var me: Int
    public var operation: Operation
    public var streamCap: Int
    /// The time ('YYYY-MM-DD HH:mm:ss').
    public var now: String

    public init(_ id: Int, by me: Int, _ operation: Operation, streamCap: Int, now: String) {
        self.id = id
        self.me = me
        self.operation = operation
        self.streamCap = streamCap
        self.now = now
    }

    public var keyCount: Int {
        switch operation {
        case .create: 6
        case .update: 2
        case .delete: 3
        }
    }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(RedisKeys.complaint(id))
        switch operation {
        case .create(let target, _, _, _):
            command.append(RedisKeys.complaintsOfUser(me))
            command.append(StreamName.entities)
            switch target {
            case .user(let user): command.append(RedisKeys.user(user))
            case .group(let group): command.append(RedisKeys.group(group))
            }
            command.append(RedisKeys.complaints)
            command.append(RedisKeys.complaints(status: 0))
            command.append("create")
        case .update:
            command.append(StreamName.entities)
            command.append("update")
        case .delete:
            command.append(RedisKeys.complaintsOfUser(me))
            command.append(StreamName.entities)
            command.append("delete")
        }
        command.append(streamCap)
        command.append(now)
        command.append(me)
        command.append(id)
        switch operation {
        case .create(let target, let reason, let optional, let limit):
            switch target {
            case .user(let user):
                command.append(user)
                command.append("single")
            case .group(let group):
                command.append(group)
                command.append("group")
            }
            command.append(reason)
            command.append(optional)
            command.append(limit)
        case .update(let changes):
            command.append(changes)
        case .delete:
            break
        }
    }

    /// The new version, or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        switch try ScriptReplyReader.version(reply, script: scriptName, refusing: Refusal.self) {
        case .success(let version): .version(version)
        case .failure(let refusal): .refused(refusal)
        }
    }
}
