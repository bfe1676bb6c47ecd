import Model
import RedisClient

/// `lua/deadletter_change.lua`: an operator replays a dead letter (its original fields
/// appended to its original stream again) or drops it, with the audit row.
///
/// On a tagged layout the dead letters, the original stream's shard and the audit are
/// three slots: a replay appends the fields to the shard first (the caller's `XADD`),
/// then this run removes the dead letter (``Operation/replayed(stream:entry:)``), then
/// the audit row is a step of its own (``RecordAudit``).
public struct ChangeDeadLetter: ChatScript {
    public static let scriptName = "deadletter_change"
    private static let keyNames = OperatorAudit.keyNames + ["deadletter"]
    private static let arguments = ["op"] + OperatorAudit.argumentNames + ["stream_cap", "entry", "steps"]
    public static let layouts = [
        ScriptLayout(operation: "replay", keys: keyNames + ["target"], arguments: arguments + ["stream", "replayed"]),
        ScriptLayout(operation: "drop", keys: keyNames, arguments: arguments),
    ]

    public enum Operation: Sendable, Equatable {
        /// One Redis: `stream`, the dead letter's original stream (its `stream` field), one
        /// of ``StreamName/entities``, ``StreamName/messages``, ``StreamName/privateEntities``
        /// (or a shard of one), is appended to in the same run.
        case replay(stream: String)
        /// A tagged layout: the fields were appended to `stream` (the shard) as `entry`
        /// already; the run checks the dead letter still names it and removes it.
        case replayed(stream: String, entry: String)
        case drop
    }

    public enum Reply: Sendable, Equatable {
        /// The new entry's id in the original stream.
        case replayed(String)
        case dropped
        /// A tagged layout: replayed (the new entry's id) or dropped (nil), the audit row
        /// still to write (``RecordAudit``).
        case changedUnaudited(replayed: String?, action: String, detail: String)
        case refused(Refusal)
    }

    public enum Refusal: String, Error, Sendable, Hashable {
        /// No such dead letter (replayed or dropped already).
        case missing
        /// Replay: its stream is not the one named.
        case stale
    }

    /// The layout's names: on a tagged one the audit is a step of its own.
    public var keys: RedisKeys
    /// The dead letter's entry id in `chat:stream:deadletter`.
    public var entry: String
    public var operation: Operation
    public var audit: OperatorAudit
    public var streamCap: Int

    public init(keys: RedisKeys, entry: String, _ operation: Operation, audit: OperatorAudit, streamCap: Int) {
        self.keys = keys
        self.entry = entry
        self.operation = operation
        self.audit = audit
        self.streamCap = streamCap
    }

    public var keyCount: Int {
        if case .drop = operation { return 4 }
        return 5
    }

    public func encode(into command: inout RedisCommandArguments) {
        let steps = keys.layout.isTagged
        if steps {
            OperatorAudit.encodePlaceholders(StreamName.deadLetters, into: &command)
        } else {
            OperatorAudit.encodeKeys(keys, into: &command)
        }
        command.append(StreamName.deadLetters)
        switch operation {
        case .replay(let stream):
            command.append(stream)
            command.append("replay")
        case .replayed:
            command.append(StreamName.deadLetters)
            command.append("replay")
        case .drop:
            command.append("drop")
        }
        audit.encodeArguments(into: &command)
        command.append(streamCap)
        command.append(entry)
        command.append(steps ? "1" : "0")
        switch operation {
        case .replay:
            command.append("")
            command.append("")
        case .replayed(let stream, let entry):
            command.append(stream)
            command.append(entry)
        case .drop:
            break
        }
    }

    /// `{'replayed', id}`, `{'dropped'}` (with steps, the audit's action and detail after
    /// them) or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = Refusal(rawValue: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        switch try reader.string() {
        case "replayed":
            let id = try reader.string()
            guard reader.count == 4 else { return .replayed(id) }
            return .changedUnaudited(replayed: id, action: try reader.string(), detail: try reader.string())
        case "dropped":
            guard reader.count == 3 else { return .dropped }
            return .changedUnaudited(replayed: nil, action: try reader.string(), detail: try reader.string())
        default: throw reader.unexpected()
        }
    }
}
