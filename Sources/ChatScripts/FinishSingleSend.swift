import Model
import RedisClient

/// `lua/message_single_finish.lua`: the last step of a single send between two partitions
/// (in the sender's): accepted, my history and the client id record; refused, the
/// reserved quota given back; the `pending` record dropped. Idempotent (no record: done).
public struct FinishSingleSend: ChatScript {
    public static let scriptName = "message_single_finish"
    public static let layouts = [
        ScriptLayout(
            keys: ["sender_history", "sent", "quota", "pending", "pending_send"],
            arguments: ["id", "outcome", "message", "quota_used", "client_id_window", "history_cap"]
        ),
    ]

    public enum Outcome: Sendable, Equatable {
        case accepted(message: [UInt8], quotaUsed: Bool)
        case refused
    }

    /// History entries the cap dropped; nil when the send had been finished before.
    public typealias Reply = Int?

    public var keys: RedisKeys
    public var messageID: String
    public var sender: Int
    public var recipient: Int
    /// The send's client id, or nil (the client id record's key).
    public var clientID: String?
    public var outcome: Outcome
    public var settings: SendSettings

    public init(
        keys: RedisKeys, messageID: String, sender: Int, recipient: Int, clientID: String?, outcome: Outcome,
        settings: SendSettings
    ) {
        self.keys = keys
        self.messageID = messageID
        self.sender = sender
        self.recipient = recipient
        self.clientID = clientID
        self.outcome = outcome
        self.settings = settings
    }

    public var keyCount: Int { 5 }

    public func encode(into command: inout RedisCommandArguments) {
        let partition = keys.layout.partition(ofUser: sender)
        command.append(keys.singleHistory(owner: sender, peer: recipient))
        command.append(keys.sentByClientID(sender, clientID ?? ""))
        command.append(keys.quota(sender))
        command.append(keys.pendingSends(partition: partition))
        command.append(keys.pendingSend(messageID, partition: partition))

        command.append(messageID)
        switch outcome {
        case .accepted(let message, let quotaUsed):
            command.append("accepted")
            command.append(bytes: message)
            command.append(quotaUsed ? "1" : "")
        case .refused:
            command.append("refused")
            command.append("")
            command.append("")
        }
        command.append(settings.clientIDWindow)
        command.append(settings.historyCap)
    }

    /// `{'finished' | 'done', trimmed}`.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        guard reader.errorCode == nil, reader.count == 2 else { throw reader.unexpected() }
        let kind = try reader.string()
        let trimmed = try reader.int()
        switch kind {
        case "finished": return trimmed
        case "done": return nil
        default: throw reader.unexpected()
        }
    }
}
