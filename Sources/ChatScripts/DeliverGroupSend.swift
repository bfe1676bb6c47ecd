import Model
import RedisClient

/// `lua/message_group_members.lua`: a member partition's step of a group send on a
/// partitioned layout: the accepted message routed to that partition's members (as
/// `DeliverToMany`), once (an `applied` marker by message id).
public struct DeliverGroupSend: ChatScript {
    public static let scriptName = "message_group_members"
    public static let layouts = [
        ScriptLayout(
            keys: ["applied", "nodes", "deliveries", "offline_bodies", "offline_bytes"], keyTail: ["online", "queue"],
            arguments: [
                "message", "me", "node", "dead_after", "queue_cap", "stream_prefix", "queue_bytes", "partition_suffix",
                "applied_ttl",
            ],
            argumentTail: ["recipient"]
        ),
    ]

    /// What the run did; nil: it had run before (routed then, nothing now).
    public typealias Reply = FanOut?

    public var keys: RedisKeys
    public var messageID: String
    /// The message object, JSON.
    public var message: [UInt8]
    public var sender: Int
    /// The members of one partition (`members.partition`).
    public var members: SendGroupMessage.Recipients.Part
    public var settings: SendSettings

    public init(
        keys: RedisKeys, messageID: String, message: [UInt8], sender: Int, members: SendGroupMessage.Recipients.Part,
        settings: SendSettings
    ) {
        self.keys = keys
        self.messageID = messageID
        self.message = message
        self.sender = sender
        self.members = members
        self.settings = settings
    }

    public var keyCount: Int { 5 + members.keys.count }

    public func encode(into command: inout RedisCommandArguments) {
        let partition = members.partition
        command.append(keys.appliedGroupSend(messageID, partition: partition))
        command.append(keys.nodes(partition: partition))
        command.append(keys.nodeDeliveries(partition: partition))
        command.append(keys.offlineBodies(partition: partition))
        command.append(keys.offlineBytes(partition: partition))
        for key in members.keys { command.append(key) }

        command.append(bytes: message)
        command.append(sender)
        command.append(settings.node)
        command.append(settings.deadAfter)
        command.append(settings.queueCap)
        command.append(RedisKeys.nodeStreamPrefix)
        command.append(settings.queueByteCap)
        command.append(keys.suffix(ofPartition: partition))
        command.append(settings.appliedTTL)
        for id in members.ids { command.append(id) }
    }

    /// `{'delivered', local addresses, routed, queued, dropped, sequence}` or `{'applied'}`.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        guard reader.errorCode == nil else { throw reader.unexpected() }
        switch try reader.string() {
        case "applied":
            return nil
        case "delivered":
            guard reader.count == 6 else { throw reader.unexpected() }
            var fanOut = try FanOut.read(from: &reader)
            let after = try reader.integer()
            guard after >= 0 else { throw reader.unexpected() }
            fanOut.localAfter = UInt64(after)
            return fanOut
        default:
            throw reader.unexpected()
        }
    }
}
