import Model
import RedisClient

/// `lua/message_group_finish.lua`: the last step of a group send on a partitioned layout
/// (in the sender's partition): the client id record names the accepted message, or is
/// forgotten after a refusal; the `pending` record goes. Idempotent (the record's existence).
public struct FinishGroupSend: ChatScript {
    public static let scriptName = "message_group_finish"
    public static let layouts = [
        ScriptLayout(keys: ["sent", "pending", "pending_send"], arguments: ["id", "outcome", "client_id_window"]),
    ]

    /// True: finished now; false: finished before (no record).
    public typealias Reply = Bool

    public var keys: RedisKeys
    public var messageID: String
    public var sender: Int
    public var clientID: String?
    public var accepted: Bool
    public var settings: SendSettings

    public init(keys: RedisKeys, messageID: String, sender: Int, clientID: String?, accepted: Bool, settings: SendSettings) {
        self.keys = keys
        self.messageID = messageID
        self.sender = sender
        self.clientID = clientID
        self.accepted = accepted
        self.settings = settings
    }

    public var keyCount: Int { 3 }

    public func encode(into command: inout RedisCommandArguments) {
        let partition = keys.layout.partition(ofUser: sender)
        command.append(keys.sentByClientID(sender, clientID ?? ""))
        command.append(keys.pendingGroupSends(partition: partition))
        command.append(keys.pendingGroupSend(messageID, partition: partition))

        command.append(messageID)
        command.append(accepted ? "accepted" : "refused")
        command.append(settings.clientIDWindow)
    }

    /// `'finished'` or `'done'`.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: scriptName)
        switch reply.string(at: reply.root) {
        case "finished": return true
        case "done": return false
        default: throw reader.unexpected()
        }
    }
}
