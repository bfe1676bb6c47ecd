import Model
import RedisClient

/// `lua/complaint_reply.lua`: an operator sets a complaint's status and reply (the
/// reporter reads it through the complaint detail), with its entity event, the status
/// indexes and the audit row.
public struct ReplyToComplaint: ChatScript {
    public static let scriptName = "complaint_reply"
    public static let layouts = [
        ScriptLayout(
            keys: OperatorAudit.keyNames + ["complaint", "stream", "status_0", "status_1", "status_2", "status_3"],
            arguments: OperatorAudit.argumentNames + ["stream_cap", "id", "status", "reply"]
        ),
    ]

    public enum Reply: Sendable, Equatable {
        /// The row's new version.
        case version(Int)
        case refused(Refusal)
    }

    public enum Refusal: String, Error, Sendable, Hashable {
        /// No such complaint.
        case missing
    }

    public var id: Int
    /// 0 待处理, 1 处理中, 2 已处理, 3 已关闭.
    public var status: Int
    /// `admin_reply` ('' for none).
    public var reply: String
    public var audit: OperatorAudit
    public var streamCap: Int

    public init(_ id: Int, status: Int, reply: String, audit: OperatorAudit, streamCap: Int) {
        self.id = id
        self.status = status
        self.reply = reply
        self.audit = audit
        self.streamCap = streamCap
    }

    public var keyCount: Int { 9 }

    public func encode(into command: inout RedisCommandArguments) {
        OperatorAudit.encodeKeys(into: &command)
        command.append(RedisKeys.complaint(id))
        command.append(StreamName.entities)
        for status in 0...3 { command.append(RedisKeys.complaints(status: status)) }
        audit.encodeArguments(into: &command)
        command.append(streamCap)
        command.append(id)
        command.append(status)
        command.append(reply)
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        switch try ScriptReplyReader.version(reply, script: scriptName, refusing: Refusal.self) {
        case .success(let version): .version(version)
        case .failure(let refusal): .refused(refusal)
        }
    }
}
