import Model
import RedisClient

/// `lua/message_single_recipient.lua`: the recipient's step of a single send between two
/// partitions (in the recipient's): their checks decide; an accepted message is stored,
/// streamed and routed there. Idempotent by message id (the `applied` marker).
public struct ApplySingleSend: ChatScript {
    public static let scriptName = "message_single_recipient"
    public static let layouts = [
        ScriptLayout(
            keys: [
                "applied", "recipient", "recipient_friends", "recipient_blocks", "recipient_history", "stream", "online",
                "queue", "nodes", "deliveries", "offline_bodies", "offline_bytes",
            ],
            arguments: [
                "id", "me", "to", "type", "data", "options", "created", "auto_reply", "reserved", "role", "nickname",
                "username", "avatar", "uuid", "remark", "history_cap", "stream_cap", "node", "dead_after", "queue_cap",
                "queue_bytes", "stream_prefix", "partition_suffix", "applied_ttl",
            ]
        ),
    ]

    public enum Reply: Sendable, Equatable {
        /// Accepted: the message as stored. `route` nil: the step had run before (a retry,
        /// the repairer), and routed it then. `quotaUsed`: the pre-friendship message counted.
        case accepted(message: [UInt8], route: DeliveryRoute?, historyTrimmed: Int, quotaUsed: Bool)
        case refused(SendSingleMessage.Refusal)
    }

    public var keys: RedisKeys
    public var messageID: String
    public var facts: SingleSendFacts
    public var settings: SendSettings

    public init(keys: RedisKeys, messageID: String, facts: SingleSendFacts, settings: SendSettings) {
        self.keys = keys
        self.messageID = messageID
        self.facts = facts
        self.settings = settings
    }

    public var keyCount: Int { 12 }

    public func encode(into command: inout RedisCommandArguments) {
        let me = facts.sender
        let to = facts.recipient
        let partition = keys.layout.partition(ofUser: to)
        command.append(keys.appliedSend(messageID, recipient: to))
        command.append(keys.user(to))
        command.append(keys.friends(to))
        command.append(keys.blocks(to))
        command.append(keys.singleHistory(owner: to, peer: me))
        command.append(keys.stream(StreamName.messages, partition: partition))
        command.append(keys.online(to))
        command.append(keys.offlineQueue(to))
        command.append(keys.nodes(partition: partition))
        command.append(keys.nodeDeliveries(partition: partition))
        command.append(keys.offlineBodies(partition: partition))
        command.append(keys.offlineBytes(partition: partition))

        command.append(messageID)
        command.append(me)
        command.append(to)
        command.append(facts.type)
        command.append(bytes: facts.data)
        command.append(bytes: facts.options)
        command.append(facts.created)
        command.append(facts.isAutoReply ? "autoreply" : "")
        command.append(facts.reserved ? "1" : "")
        command.append(facts.role.rawValue)
        command.append(facts.nickname)
        command.append(facts.username)
        command.append(facts.avatar)
        command.append(facts.uuid)
        command.append(facts.remark)
        command.append(settings.historyCap)
        command.append(settings.streamCap)
        command.append(settings.node)
        command.append(settings.deadAfter)
        command.append(settings.queueCap)
        command.append(settings.queueByteCap)
        command.append(RedisKeys.nodeStreamPrefix)
        command.append(keys.suffix(ofPartition: partition))
        command.append(settings.appliedTTL)
    }

    /// `{route, argument, message, trimmed, sequence, quota used}` or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = SendSingleMessage.Refusal(code: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        guard reader.count == 6 else { throw reader.unexpected() }
        let kind = try reader.string()
        let argument = try reader.next()
        let message = try reader.bytes()
        let trimmed = try reader.int()
        let after = try reader.integer()
        let quotaUsed = try reader.string() == "1"
        let route: DeliveryRoute?
        if kind == "applied" {
            route = nil
        } else {
            guard let decoded = DeliveryRoute(kind: kind, argument: argument, after: after, in: reply) else {
                throw reader.unexpected()
            }
            route = decoded
        }
        return .accepted(message: message, route: route, historyTrimmed: trimmed, quotaUsed: quotaUsed)
    }
}
