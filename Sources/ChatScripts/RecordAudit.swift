import Model
import RedisClient

/// `lua/admin_audit.lua`: an operator's action audited as a step of its own, on a tagged
/// layout, after the change's own run in its partition (``ChangeUserByOperator``'s
/// `changedUnaudited`, a user the console creates).
public struct RecordAudit: ChatScript {
    public static let scriptName = "admin_audit"
    public static let layouts = [
        ScriptLayout(
            keys: OperatorAudit.keyNames,
            arguments: OperatorAudit.argumentNames + ["stream_cap", "action", "target_type", "target_id", "detail"]
        ),
    ]

    /// The audit row's id.
    public typealias Reply = Int

    public var keys: RedisKeys
    public var audit: OperatorAudit
    public var streamCap: Int
    public var action: String
    public var targetType: String
    /// nil: an action without a target id (a dead letter's).
    public var targetID: Int?
    /// A JSON object.
    public var detail: String

    public init(
        keys: RedisKeys, audit: OperatorAudit, streamCap: Int, action: String, targetType: String, targetID: Int?, detail: String
    ) {
        self.keys = keys
        self.audit = audit
        self.streamCap = streamCap
        self.action = action
        self.targetType = targetType
        self.targetID = targetID
        self.detail = detail
    }

    public var keyCount: Int { 3 }

    public func encode(into command: inout RedisCommandArguments) {
        OperatorAudit.encodeKeys(keys, into: &command)
        audit.encodeArguments(into: &command)
        command.append(streamCap)
        command.append(action)
        command.append(targetType)
        if let targetID { command.append(targetID) } else { command.append("") }
        command.append(detail)
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: scriptName)
        guard reader.errorCode == nil, let id = reply.integer(at: reply.root) else { throw reader.unexpected() }
        return Int(id)
    }
}
