import Model
import RedisClient

/// `lua/deadletter_change.lua`: an operator replays a dead letter (its original fields
/// appended to its original stream again) or drops it, with the audit row.
public struct ChangeDeadLetter: ChatScript {
    public static let scriptName = "deadletter_change"
    private static let keys = OperatorAudit.keyNames + ["deadletter"]
    private static let arguments = ["op"] + OperatorAudit.argumentNames + ["stream_cap", "entry"]
    public static let layouts = [
        ScriptLayout(operation: "replay", keys: keys + ["target"], arguments: arguments),
        ScriptLayout(operation: "drop", keys: keys, arguments: arguments),
    ]

    public enum Operation: Sendable, Equatable {
        /// `stream`: the dead letter's original stream (its `stream` field), one of
        /// ``StreamName/entities``, ``StreamName/messages``, ``StreamName/privateEntities``.
        case replay(stream: String)
        case drop
    }

    public enum Reply: Sendable, Equatable {
        /// The new entry's id in the original stream.
        case replayed(String)
        case dropped
        case refused(Refusal)
    }

    public enum Refusal: String, Error, Sendable, Hashable {
        /// No such dead letter (replayed or dropped already).
        case missing
        /// Replay: its stream is not the one named.
        case stale
    }

    /// The dead letter's entry id in `chat:stream:deadletter`.
    public var entry: String
    public var operation: Operation
    public var audit: OperatorAudit
    public var streamCap: Int

    public init(entry: String, _ operation: Operation, audit: OperatorAudit, streamCap: Int) {
        self.entry = entry
        self.operation = operation
        self.audit = audit
        self.streamCap = streamCap
    }

    public var keyCount: Int {
        if case .replay = operation { return 5 }
        return 4
    }

    public func encode(into command: inout RedisCommandArguments) {
        OperatorAudit.encodeKeys(into: &command)
        command.append(StreamName.deadLetters)
        switch operation {
        case .replay(let stream):
            command.append(stream)
            command.append("replay")
        case .drop:
            command.append("drop")
        }
        audit.encodeArguments(into: &command)
        command.append(streamCap)
        command.append(entry)
    }

    /// `{'replayed', id}`, `{'dropped'}` or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = Refusal(rawValue: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        switch try reader.string() {
        case "replayed": return .replayed(try reader.string())
        case "dropped": return .dropped
        default: throw reader.unexpected()
        }
    }
}
