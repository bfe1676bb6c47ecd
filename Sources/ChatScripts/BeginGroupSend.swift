import Model
import RedisClient

/// `lua/message_group_sender.lua`: the sender's step of a group send on a partitioned
/// layout (in the sender's partition): client id, token, account, send rate, my facts, a
/// `pending` record with its deadline.
public struct BeginGroupSend: ChatScript {
    public static let scriptName = "message_group_sender"
    public static let layouts = [
        ScriptLayout(
            keys: ["token", "sender", "sent", "rate", "pending", "pending_send"],
            arguments: [
                "id", "me", "group", "type", "data", "options", "token", "client_id", "client_id_window", "send_rate",
                "send_burst", "repair_after",
            ]
        ),
    ]

    public enum Reply: Sendable, Equatable {
        /// Checked and recorded: the group's step comes next.
        case pending(GroupSendFacts)
        /// A retried client id whose send was accepted as message `messageID` (found in the
        /// group's history by `ApplyGroupSend.find`).
        case duplicate(messageID: String)
        /// A retried client id whose send `messageID` is still under way: its `pending`
        /// record has what the later steps need.
        case resume(messageID: String)
        case refused(SendGroupMessage.Refusal)
    }

    public var keys: RedisKeys
    public var send: SendGroupMessage

    /// The send as the one-run script would take it (`send.keys` is ignored: `keys`).
    public init(keys: RedisKeys, send: SendGroupMessage) {
        self.keys = keys
        self.send = send
    }

    public var keyCount: Int { 6 }

    public func encode(into command: inout RedisCommandArguments) {
        let me = send.sender
        let partition = keys.layout.partition(ofUser: me)
        command.append(keys.userToken(me))
        command.append(keys.user(me))
        command.append(keys.sentByClientID(me, send.clientID ?? ""))
        command.append(keys.sendRate(me))
        command.append(keys.pendingGroupSends(partition: partition))
        command.append(keys.pendingGroupSend(send.messageID, partition: partition))

        command.append(send.messageID)
        command.append(me)
        command.append(send.group)
        command.append(send.type)
        command.append(bytes: send.data)
        command.append(bytes: send.options)
        command.append(send.uncheckedToken ?? "")
        command.append(send.clientID ?? "")
        command.append(send.settings.clientIDWindow)
        command.append(send.settings.sendRate)
        command.append(send.settings.sendBurst)
        command.append(send.settings.repairAfter)
    }

    /// `{'pending', created, nickname, username, avatar, uuid}`, `{'duplicate', id}`,
    /// `{'resume', id}` or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = SendGroupMessage.Refusal(rawValue: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        switch try reader.string() {
        case "pending":
            guard reader.count == 6 else { throw reader.unexpected() }
            // The message's own fields are the caller's: filled in by `facts(of:)`.
            return .pending(GroupSendFacts(
                sender: 0, group: 0, type: "", data: [], options: [], created: try reader.string(),
                nickname: try reader.string(), username: try reader.string(), avatar: try reader.string(),
                uuid: try reader.string(), clientID: nil
            ))
        case "duplicate":
            return .duplicate(messageID: try reader.string())
        case "resume":
            return .resume(messageID: try reader.string())
        default:
            throw reader.unexpected()
        }
    }

    /// The facts of a `pending` reply completed with the message's own fields.
    public func facts(of decoded: GroupSendFacts) -> GroupSendFacts {
        var facts = decoded
        facts.sender = send.sender
        facts.group = send.group
        facts.type = send.type
        facts.data = send.data
        facts.options = send.options
        facts.clientID = send.clientID
        return facts
    }
}
