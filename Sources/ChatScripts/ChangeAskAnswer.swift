import Model
import RedisClient

/// `lua/askanswer_change.lua`: creates, updates or deletes a question/answer row of mine,
/// with its entity event.
public struct ChangeAskAnswer: ChatScript {
    public static let scriptName = "askanswer_change"
    private static let keys = ["rows", "owner", "stream"]
    private static let arguments = ["op", "stream_cap", "now", "me", "id"]
    public static let layouts = [
        ScriptLayout(operation: "create", keys: keys, arguments: arguments + ["ask", "answer", "type", "limit"]),
        ScriptLayout(operation: "update", keys: keys, arguments: arguments + ["changes"]),
        ScriptLayout(operation: "delete", keys: keys, arguments: arguments),
    ]

    public enum Operation: Sendable {
        /// `limit`: how many rows a user may have.
        case create(ask: String, answer: String, type: String, limit: Int)
        /// `changes`: a JSON object of the columns to set (ask, answer, type).
        case update(changes: String)
        case delete
    }

    public enum Reply: Sendable, Equatable {
        /// The row's JSON (for delete, as it was).
        case row([UInt8])
        case refused(Refusal)
    }

    public enum Refusal: String, Error, Sendable, Hashable {
        /// No row of mine with that id.
        case missing
        /// Create: the user has the cap of rows.
        case full
        /// Create: a row with the new id exists (the id counter went back); nothing written.
        case idTaken = "id_taken"
    }

    public var id: Int
    public var me: Int
    public var operation: Operation
    /// The layout's names: every key is in my partition.
    public var keys: RedisKeys
    public var streamCap: Int
    /// The time ('YYYY-MM-DD HH:mm:ss').
    public var now: String

    public init(_ id: Int, by me: Int, _ operation: Operation, keys: RedisKeys, streamCap: Int, now: String) {
        self.id = id
        self.me = me
        self.operation = operation
        self.keys = keys
        self.streamCap = streamCap
        self.now = now
    }

    public var keyCount: Int { 3 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(keys.askAnswersOfUser(me))
        command.append(keys.askAnswerOwner(id, owner: me))
        command.append(keys.stream(StreamName.entities, partition: keys.layout.partition(ofUser: me)))
        switch operation {
        case .create: command.append("create")
        case .update: command.append("update")
        case .delete: command.append("delete")
        }
        command.append(streamCap)
        command.append(now)
        command.append(me)
        command.append(id)
        switch operation {
        case .create(let ask, let answer, let type, let limit):
            command.append(ask)
            command.append(answer)
            command.append(type)
            command.append(limit)
        case .update(let changes):
            command.append(changes)
        case .delete:
            break
        }
    }

    /// The row's JSON, or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = Refusal(rawValue: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        guard reply.kind(at: reply.root) == .bulk, let range = reply.byteRange(at: reply.root) else { throw reader.unexpected() }
        return .row(Array(reply.bytes[range]))
    }
}
