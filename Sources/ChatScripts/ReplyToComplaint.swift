import Model
import RedisClient

/// `lua/complaint_reply.lua`: an operator sets a complaint's status and reply (the
/// reporter reads it through the complaint detail), with its entity event, the status
/// indexes and the audit row. On a tagged layout every key is the complaint's partition's
/// (its reporter's) and the audit row is a step of its own (``RecordAudit``, after this).
public struct ReplyToComplaint: ChatScript {
    public static let scriptName = "complaint_reply"
    public static let layouts = [
        ScriptLayout(
            keys: OperatorAudit.keyNames + ["complaint", "stream", "status_0", "status_1", "status_2", "status_3"],
            arguments: OperatorAudit.argumentNames + ["stream_cap", "id", "status", "reply", "steps"]
        ),
    ]

    public enum Reply: Sendable, Equatable {
        /// The row's new version (audited in the same run).
        case version(Int)
        /// A tagged layout: changed, the audit row still to write (``RecordAudit``).
        case changedUnaudited(version: Int, action: String, detail: String)
        case refused(Refusal)
    }

    public enum Refusal: String, Error, Sendable, Hashable {
        /// No such complaint.
        case missing
    }

    /// The layout's names.
    public var keys: RedisKeys
    public var id: Int
    /// The complaint's partition (its reporter's; 0 on one Redis).
    public var partition: Int
    /// 0 待处理, 1 处理中, 2 已处理, 3 已关闭.
    public var status: Int
    /// `admin_reply` ('' for none).
    public var reply: String
    public var audit: OperatorAudit
    public var streamCap: Int

    public init(keys: RedisKeys, _ id: Int, partition: Int, status: Int, reply: String, audit: OperatorAudit, streamCap: Int) {
        self.keys = keys
        self.id = id
        self.partition = partition
        self.status = status
        self.reply = reply
        self.audit = audit
        self.streamCap = streamCap
    }

    public var keyCount: Int { 9 }

    public func encode(into command: inout RedisCommandArguments) {
        let steps = keys.layout.isTagged
        let stream = keys.stream(StreamName.entities, partition: partition)
        if steps {
            OperatorAudit.encodePlaceholders(stream, into: &command)
        } else {
            OperatorAudit.encodeKeys(keys, into: &command)
        }
        command.append(keys.complaint(id, partition: partition))
        command.append(stream)
        for status in 0...3 { command.append(keys.complaints(status: status, partition: partition)) }
        audit.encodeArguments(into: &command)
        command.append(streamCap)
        command.append(id)
        command.append(status)
        command.append(reply)
        command.append(steps ? "1" : "0")
    }

    /// The version, with steps `{version, action, detail}`, or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if reader.errorCode == nil, reader.count == 3 {
            return .changedUnaudited(version: try reader.int(), action: try reader.string(), detail: try reader.string())
        }
        switch try ScriptReplyReader.version(reply, script: scriptName, refusing: Refusal.self) {
        case .success(let version): return .version(version)
        case .failure(let refusal): return .refused(refusal)
        }
    }
}
