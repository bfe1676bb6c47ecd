import Model
import RedisClient

/// `lua/message_send_single.lua`: checks, builds, stores, streams and routes one
/// single-chat message in one step.
public struct SendSingleMessage: ChatScript {
    public static let scriptName = "message_send_single"
    public static let layouts = [
        ScriptLayout(
            keys: [
                "token", "sender", "recipient", "recipient_friends", "sender_friends", "quota", "sender_history",
                "recipient_history", "stream", "online", "queue", "nodes", "sent", "deliveries", "rate", "offline_bodies",
                "offline_bytes", "recipient_blocks",
            ],
            arguments: [
                "id", "me", "to", "type", "data", "options", "token", "client_id", "client_id_window", "history_cap",
                "stream_cap", "node", "dead_after", "queue_cap", "stream_prefix", "send_rate", "send_burst", "queue_bytes",
                "auto_reply", "partition_suffix",
            ]
        ),
    ]

    public enum Reply: Sendable, Equatable {
        /// Stored and routed; `historyTrimmed`: entries the history caps dropped.
        case accepted(message: [UInt8], route: DeliveryRoute, historyTrimmed: Int)
        /// A retried send: the message the first one was accepted as; nothing was written.
        case duplicate(message: [UInt8])
        case refused(Refusal)
    }

    /// The script's error codes.
    public enum Refusal: Sendable, Equatable {
        /// The token is not the account's current one.
        case token
        /// The sender's account is gone or disabled.
        case sender
        /// Over the sender's send rate; nothing was written.
        case rate
        /// A send with this client id is under way between partitions (not finished yet):
        /// the client retries later and learns its outcome.
        case pending
        /// The recipient is gone or disabled.
        case recipient
        /// The recipient blocks the sender (a block, or their row for the sender blacklisted).
        case blacklisted(SenderRole)
        /// The friendship is blocked (its status is not 1).
        case blocked(SenderRole)
        /// The recipient's chatset wants friends only.
        case friendsOnly(SenderRole)
        /// The one message before a friendship was sent already.
        case quota(SenderRole)

        /// `code` or `code role`, as the script answers.
        init?(code: String) {
            let words = code.split(separator: " ", maxSplits: 1)
            guard let first = words.first else { return nil }
            let role: SenderRole = words.count > 1 && words[1] == "visitor" ? .visitor : .user
            switch first {
            case "token": self = .token
            case "sender": self = .sender
            case "rate": self = .rate
            case "pending": self = .pending
            case "recipient": self = .recipient
            case "blacklisted": self = .blacklisted(role)
            case "blocked": self = .blocked(role)
            case "friends_only": self = .friendsOnly(role)
            case "quota": self = .quota(role)
            default: return nil
            }
        }
    }

    public var messageID: String
    public var sender: Int
    public var recipient: Int
    public var type: String
    /// The message data and options, JSON text.
    public var data: [UInt8]
    public var options: [UInt8]
    /// The sender's token to check, or nil when the caller checked it.
    public var uncheckedToken: String?
    /// Makes the send idempotent within the window.
    public var clientID: String?
    /// The recipient's automatic Q&A answer: no chatset, no quota.
    public var isAutoReply: Bool
    public var settings: SendSettings
    public var keys: RedisKeys

    /// Both users in one partition of `keys` (always on one Redis).
    public init(
        keys: RedisKeys = .plain, messageID: String, sender: Int, recipient: Int, type: String, data: [UInt8], options: [UInt8],
        uncheckedToken: String?, clientID: String?, isAutoReply: Bool, settings: SendSettings
    ) {
        self.messageID = messageID
        self.sender = sender
        self.recipient = recipient
        self.type = type
        self.data = data
        self.options = options
        self.uncheckedToken = uncheckedToken
        self.clientID = clientID
        self.isAutoReply = isAutoReply
        self.settings = settings
        self.keys = keys
    }

    public var keyCount: Int { 18 }

    public func encode(into command: inout RedisCommandArguments) {
        let me = sender
        let to = recipient
        let partition = keys.layout.partition(ofUser: to)
        command.append(keys.userToken(me))
        command.append(keys.user(me))
        command.append(keys.user(to))
        command.append(keys.friends(to))
        command.append(keys.friends(me))
        command.append(keys.quota(me))
        command.append(keys.singleHistory(owner: me, peer: to))
        command.append(keys.singleHistory(owner: to, peer: me))
        command.append(keys.stream(StreamName.messages, partition: partition))
        command.append(keys.online(to))
        command.append(keys.offlineQueue(to))
        command.append(keys.nodes(partition: partition))
        command.append(keys.sentByClientID(me, clientID ?? ""))
        command.append(keys.nodeDeliveries(partition: partition))
        command.append(keys.sendRate(me))
        command.append(keys.offlineBodies(partition: partition))
        command.append(keys.offlineBytes(partition: partition))
        command.append(keys.blocks(to))

        command.appendSend(
            id: messageID, from: me, to: to, type: type, data: data, options: options, uncheckedToken: uncheckedToken,
            clientID: clientID, settings: settings
        )
        command.append(isAutoReply ? "autoreply" : "")
        command.append(keys.suffix(ofPartition: partition))
    }

    /// `{route, argument, message, trimmed[, sequence]}`, or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = Refusal(code: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        let kind = try reader.string()
        let argument = try reader.next()
        let message = try reader.bytes()
        let trimmed = try reader.int()
        if kind == "duplicate" { return .duplicate(message: message) }
        let after = kind == "local" ? try reader.integer() : nil
        guard let route = DeliveryRoute(kind: kind, argument: argument, after: after, in: reply) else { throw reader.unexpected() }
        return .accepted(message: message, route: route, historyTrimmed: trimmed)
    }
}
