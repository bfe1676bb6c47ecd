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
    /// The layout's names: every key is in my partition (a target in another one is
    /// checked by the caller: `targetChecked`).
    public var keys: RedisKeys
    /// Create: the caller found the target's row in another partition; the script checks my row instead.
    public var targetChecked: Bool
    public var streamCap: Int
    /// The time ('YYYY-MM-DD HH:mm:ss').
    public var now: String

    public init(
        _ id: Int, by me: Int, _ operation: Operation, keys: RedisKeys, targetChecked: Bool = false, streamCap: Int, now: String
    ) {
        self.id = id
        self.me = me
        self.operation = operation
        self.keys = keys
        self.targetChecked = targetChecked
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
        let partition = keys.layout.partition(ofUser: me)
        let stream = keys.stream(StreamName.entities, partition: partition)
        command.append(keys.complaint(id, reporter: me))
        switch operation {
        case .create(let target, _, _, _):
            command.append(keys.complaintsOfUser(me))
            command.append(stream)
            if targetChecked {
                command.append(keys.user(me))
            } else {
                switch target {
                case .user(let user): command.append(keys.user(user))
                case .group(let group): command.append(keys.group(group))
                }
            }
            command.append(keys.complaints(partition: partition))
            command.append(keys.complaints(status: 0, partition: partition))
            command.append("create")
        case .update:
            command.append(stream)
            command.append("update")
        case .delete:
            command.append(keys.complaintsOfUser(me))
            command.append(stream)
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
