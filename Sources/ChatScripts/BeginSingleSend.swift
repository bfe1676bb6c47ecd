import Model
import RedisClient

/// `lua/message_single_sender.lua`: the sender's step of a single send between two
/// partitions (in the sender's): client id, token, account, send rate, my facts, the
/// pre-friendship message reserved, a `pending` record with its deadline.
public struct BeginSingleSend: ChatScript {
    public static let scriptName = "message_single_sender"
    public static let layouts = [
        ScriptLayout(
            keys: ["token", "sender", "sender_friends", "quota", "sender_history", "sent", "rate", "pending", "pending_send"],
            arguments: [
                "id", "me", "to", "type", "data", "options", "token", "client_id", "client_id_window", "history_cap",
                "send_rate", "send_burst", "auto_reply", "repair_after",
            ]
        ),
    ]

    public enum Reply: Sendable, Equatable {
        /// Checked and recorded: the recipient's step comes next.
        case pending(SingleSendFacts)
        /// A retried send: the message the first one was accepted as; nothing was written.
        case duplicate(message: [UInt8])
        case refused(SendSingleMessage.Refusal)
    }

    public var keys: RedisKeys
    public var send: SendSingleMessage

    /// The send as the one-run script would take it (`send.keys` is ignored: `keys`).
    public init(keys: RedisKeys, send: SendSingleMessage) {
        self.keys = keys
        self.send = send
    }

    public var keyCount: Int { 9 }

    public func encode(into command: inout RedisCommandArguments) {
        let me = send.sender
        let to = send.recipient
        let partition = keys.layout.partition(ofUser: me)
        command.append(keys.userToken(me))
        command.append(keys.user(me))
        command.append(keys.friends(me))
        command.append(keys.quota(me))
        command.append(keys.singleHistory(owner: me, peer: to))
        command.append(keys.sentByClientID(me, send.clientID ?? ""))
        command.append(keys.sendRate(me))
        command.append(keys.pendingSends(partition: partition))
        command.append(keys.pendingSend(send.messageID, partition: partition))

        command.append(send.messageID)
        command.append(me)
        command.append(to)
        command.append(send.type)
        command.append(bytes: send.data)
        command.append(bytes: send.options)
        command.append(send.uncheckedToken ?? "")
        command.append(send.clientID ?? "")
        command.append(send.settings.clientIDWindow)
        command.append(send.settings.historyCap)
        command.append(send.settings.sendRate)
        command.append(send.settings.sendBurst)
        command.append(send.isAutoReply ? "autoreply" : "")
        command.append(send.settings.repairAfter)
    }

    /// `{'pending', created, reserved, role, nickname, username, avatar, uuid, remark}`,
    /// `{'duplicate', '', message, 0}` or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = SendSingleMessage.Refusal(code: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        switch try reader.string() {
        case "duplicate":
            _ = try reader.next()
            return .duplicate(message: try reader.bytes())
        case "pending":
            guard reader.count == 9 else { throw reader.unexpected() }
            let created = try reader.string()
            let reserved = try reader.string() == "1"
            let role: SenderRole = try reader.string() == "visitor" ? .visitor : .user
            // The message's own fields are the caller's: filled in by `facts(of:)`.
            return .pending(SingleSendFacts(
                sender: 0, recipient: 0, type: "", data: [], options: [], created: created, isAutoReply: false,
                reserved: reserved, role: role, nickname: try reader.string(), username: try reader.string(),
                avatar: try reader.string(), uuid: try reader.string(), remark: try reader.string()
            ))
        default:
            throw reader.unexpected()
        }
    }

    /// The facts of a `pending` reply completed with the message's own fields.
    public func facts(of decoded: SingleSendFacts) -> SingleSendFacts {
        var facts = decoded
        facts.sender = send.sender
        facts.recipient = send.recipient
        facts.type = send.type
        facts.data = send.data
        facts.options = send.options
        facts.isAutoReply = send.isAutoReply
        return facts
    }
}
