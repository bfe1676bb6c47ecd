import Model
import RedisClient

/// `lua/message_group_apply.lua`: the group's step of a group send on a partitioned layout
/// (in the group's partition): the group, my membership and the members version decide; an
/// accepted message is stored once in the history and the partition's stream shard, and
/// fanned out to the members of this partition. Idempotent by message id (the `applied`
/// marker). `find` looks a retried client id's message up in the history.
public struct ApplyGroupSend: ChatScript {
    public static let scriptName = "message_group_apply"
    public static let layouts = [
        ScriptLayout(
            keys: [
                "applied", "group", "members", "members_version", "history", "stream", "nodes", "deliveries", "offline_bodies",
                "offline_bytes",
            ],
            keyTail: ["online", "queue"],
            arguments: [
                "mode", "id", "me", "group", "type", "data", "options", "created", "nickname", "username", "avatar", "uuid",
                "history_cap", "stream_cap", "node", "dead_after", "queue_cap", "queue_bytes", "stream_prefix",
                "partition_suffix", "applied_ttl", "members_version",
            ],
            argumentTail: ["recipient"]
        ),
    ]

    public enum Reply: Sendable, Equatable {
        /// Accepted now: stored, streamed, fanned out to this partition's members.
        case sent(message: [UInt8], fanOut: FanOut, historyTrimmed: Int)
        /// Accepted before (a retry, the repairer): the message, nothing written again.
        case applied(message: [UInt8])
        /// `find`: the message as stored, or `{"id":…}` alone when it is not (or no longer) there.
        case found(message: [UInt8])
        /// The members changed since the recipients were read: these are the current ones.
        case stale(version: String, members: [Int])
        case refused(SendGroupMessage.Refusal)
    }

    public var keys: RedisKeys
    public var messageID: String
    public var facts: GroupSendFacts
    /// The whole group's active members, read at `recipients.version`: the step takes
    /// those of the group's partition.
    public var recipients: SendGroupMessage.Recipients
    public var settings: SendSettings
    /// Only looks the message up (`find`).
    public private(set) var findsOnly = false

    /// The step of send `messageID`.
    public init(keys: RedisKeys, messageID: String, facts: GroupSendFacts, recipients: SendGroupMessage.Recipients, settings: SendSettings) {
        self.keys = keys
        self.messageID = messageID
        self.facts = facts
        self.recipients = recipients
        self.settings = settings
    }

    /// Message `messageID` in group `group`'s history, for a retried client id of `sender`.
    public static func find(keys: RedisKeys, messageID: String, sender: Int, group: Int, settings: SendSettings) -> ApplyGroupSend {
        let facts = GroupSendFacts(
            sender: sender, group: group, type: "", data: [], options: [], created: "", nickname: "", username: "", avatar: "",
            uuid: "", clientID: nil
        )
        var find = ApplyGroupSend(keys: keys, messageID: messageID, facts: facts, recipients: .unknown, settings: settings)
        find.findsOnly = true
        return find
    }

    private var partition: Int { keys.layout.partition(ofGroup: facts.group) }

    public var keyCount: Int { 10 + recipients.part(partition).keys.count }

    public func encode(into command: inout RedisCommandArguments) {
        let group = facts.group
        let partition = partition
        let members = recipients.part(partition)
        command.append(keys.appliedGroupSend(messageID, partition: partition))
        command.append(keys.group(group))
        command.append(keys.groupMembers(group))
        command.append(keys.groupMembersVersion(group))
        command.append(keys.groupHistory(group))
        command.append(keys.stream(StreamName.messages, partition: partition))
        command.append(keys.nodes(partition: partition))
        command.append(keys.nodeDeliveries(partition: partition))
        command.append(keys.offlineBodies(partition: partition))
        command.append(keys.offlineBytes(partition: partition))
        for key in members.keys { command.append(key) }

        command.append(findsOnly ? "find" : "send")
        command.append(messageID)
        command.append(facts.sender)
        command.append(group)
        command.append(facts.type)
        command.append(bytes: facts.data)
        command.append(bytes: facts.options)
        command.append(facts.created)
        command.append(facts.nickname)
        command.append(facts.username)
        command.append(facts.avatar)
        command.append(facts.uuid)
        command.append(settings.historyCap)
        command.append(settings.streamCap)
        command.append(settings.node)
        command.append(settings.deadAfter)
        command.append(settings.queueCap)
        command.append(settings.queueByteCap)
        command.append(RedisKeys.nodeStreamPrefix)
        command.append(keys.suffix(ofPartition: partition))
        command.append(settings.appliedTTL)
        command.append(recipients.version)
        for id in members.ids { command.append(id) }
    }

    /// `{'sent', message, local, routed, queued, dropped, trimmed, sequence}`,
    /// `{'applied', message}`, `{'found', message}`, `{'stale', version, member ids…}` or
    /// an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = SendGroupMessage.Refusal(rawValue: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        switch try reader.string() {
        case "sent":
            guard reader.count == 8 else { throw reader.unexpected() }
            let message = try reader.bytes()
            var fanOut = try FanOut.read(from: &reader)
            let trimmed = try reader.int()
            let after = try reader.integer()
            guard after >= 0 else { throw reader.unexpected() }
            fanOut.localAfter = UInt64(after)
            return .sent(message: message, fanOut: fanOut, historyTrimmed: trimmed)
        case "applied":
            return .applied(message: try reader.bytes())
        case "found":
            return .found(message: try reader.bytes())
        case "stale":
            let version = try reader.string()
            return .stale(version: version, members: reader.remainingIntegers())
        default:
            throw reader.unexpected()
        }
    }
}
