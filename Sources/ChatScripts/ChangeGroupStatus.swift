import Model
import RedisClient

/// `lua/group_status.lua`: an operator disables or enables a group, with its entity
/// event and the audit row, in one run: one Redis only (its names are the plain ones); a
/// tagged layout runs `GroupChangeStep` `.status` and `RecordAudit` instead.
public struct ChangeGroupStatus: ChatScript {
    public static let scriptName = "group_status"
    public static let layouts = [
        ScriptLayout(
            keys: OperatorAudit.keyNames + ["group", "stream"],
            arguments: OperatorAudit.argumentNames + ["stream_cap", "group_id", "status"]
        ),
    ]

    public enum Reply: Sendable, Equatable {
        /// The row's new version.
        case version(Int)
        case refused(Refusal)
    }

    public enum Refusal: String, Error, Sendable, Hashable {
        /// No such group.
        case missing
    }

    public var group: Int
    public var enabled: Bool
    public var audit: OperatorAudit
    public var streamCap: Int

    public init(group: Int, enabled: Bool, audit: OperatorAudit, streamCap: Int) {
        self.group = group
        self.enabled = enabled
        self.audit = audit
        self.streamCap = streamCap
    }

    public var keyCount: Int { 5 }

    public func encode(into command: inout RedisCommandArguments) {
        OperatorAudit.encodeKeys(into: &command)
        command.append(RedisKeys.group(group))
        command.append(StreamName.entities)
        audit.encodeArguments(into: &command)
        command.append(streamCap)
        command.append(group)
        command.append(enabled ? "1" : "0")
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        switch try ScriptReplyReader.version(reply, script: scriptName, refusing: Refusal.self) {
        case .success(let version): .version(version)
        case .failure(let refusal): .refused(refusal)
        }
    }
}
