import Model
import RedisClient

/// `lua/message_send_group.lua`: checks, builds, stores and streams one group message,
/// and fans it out to the active members but the sender, in one step: on a layout of one
/// partition (one Redis). On a partitioned layout the send runs as steps
/// (`BeginGroupSend`, `ApplyGroupSend`, `DeliverGroupSend`, `FinishGroupSend`), which take
/// this value as the request.
public struct SendGroupMessage: ChatScript {
    public static let scriptName = "message_send_group"
    public static let layouts = [
        ScriptLayout(
            keys: [
                "token", "sender", "group", "members", "members_version", "history", "stream", "nodes", "sent", "deliveries",
                "rate", "offline_bodies", "offline_bytes",
            ],
            keyTail: ["online", "queue"],
            arguments: [
                "id", "me", "group", "type", "data", "options", "token", "client_id", "client_id_window", "history_cap",
                "stream_cap", "node", "dead_after", "queue_cap", "stream_prefix", "send_rate", "send_burst", "queue_bytes",
                "members_version",
            ],
            argumentTail: ["recipient"]
        ),
    ]

    /// A group's active members as the send scripts want them, with the members version
    /// they were read at: per partition (one on one Redis), their ids as text and their
    /// `online_{uid}` / `chat_getmessage_{uid}` keys, built once per membership change
    /// rather than once per message.
    public struct Recipients: Sendable, Equatable {
        public let version: String
        /// The members of each partition that has any, in the order of their first
        /// appearance (the members as given on one Redis).
        public let parts: [Part]

        public struct Part: Sendable, Equatable {
            public let partition: Int
            public internal(set) var ids: [String] = []
            /// `online_{uid}`, `chat_getmessage_{uid}` per member, in the order of `ids`.
            public internal(set) var keys: [String] = []
        }

        public init(version: String, ids: [Int], keys names: RedisKeys) {
            self.version = version
            var parts: [Part] = []
            var index: [Int: Int] = [:]
            for id in ids {
                let partition = names.layout.partition(ofUser: id)
                let at = index[partition] ?? parts.count
                if at == parts.count {
                    index[partition] = at
                    parts.append(Part(partition: partition))
                }
                parts[at].ids.append(String(id))
                parts[at].keys.append(names.online(id))
                parts[at].keys.append(names.offlineQueue(id))
            }
            self.parts = parts
        }

        /// The members of `partition` (none: an empty part).
        public func part(_ partition: Int) -> Part {
            parts.first { $0.partition == partition } ?? Part(partition: partition)
        }

        /// A group not seen yet: its first send learns the members from `stale`.
        public static let unknown = Recipients(version: "", ids: [], keys: .plain)
    }

    public enum Reply: Sendable, Equatable {
        /// Stored and fanned out; `historyTrimmed`: entries the history cap dropped.
        case sent(message: [UInt8], fanOut: FanOut, historyTrimmed: Int)
        /// A retried send: the message the first one was accepted as; nothing was written.
        case duplicate(message: [UInt8])
        /// The members changed since `recipients` were read: these are the current ones
        /// (the caller builds its `Recipients` in its layout).
        case stale(version: String, members: [Int])
        case refused(Refusal)
    }

    /// The script's error codes.
    public enum Refusal: String, Sendable, Equatable {
        /// The token is not the account's current one.
        case token
        /// The sender's account is gone or disabled.
        case sender
        /// The group is gone or not active.
        case group
        /// The sender is not an active member.
        case notMember = "not_member"
        /// Over the sender's send rate; nothing was written.
        case rate
    }

    public var keys: RedisKeys
    public var messageID: String
    public var sender: Int
    public var group: Int
    public var type: String
    /// The message data and options, JSON text.
    public var data: [UInt8]
    public var options: [UInt8]
    /// The sender's token to check, or nil when the caller checked it.
    public var uncheckedToken: String?
    /// Makes the send idempotent within the window.
    public var clientID: String?
    /// The members the caller has cached.
    public var recipients: Recipients
    public var settings: SendSettings

    public init(
        keys: RedisKeys, messageID: String, sender: Int, group: Int, type: String, data: [UInt8], options: [UInt8],
        uncheckedToken: String?, clientID: String?, recipients: Recipients, settings: SendSettings
    ) {
        self.keys = keys
        self.messageID = messageID
        self.sender = sender
        self.group = group
        self.type = type
        self.data = data
        self.options = options
        self.uncheckedToken = uncheckedToken
        self.clientID = clientID
        self.recipients = recipients
        self.settings = settings
    }

    public var keyCount: Int { 13 + recipients.parts.reduce(0) { $0 + $1.keys.count } }

    public func encode(into command: inout RedisCommandArguments) {
        // One partition: the names of the layout's only one.
        command.append(keys.userToken(sender))
        command.append(keys.user(sender))
        command.append(keys.group(group))
        command.append(keys.groupMembers(group))
        command.append(keys.groupMembersVersion(group))
        command.append(keys.groupHistory(group))
        command.append(keys.stream(StreamName.messages, partition: 0))
        command.append(keys.nodes(partition: 0))
        command.append(keys.sentByClientID(sender, clientID ?? ""))
        command.append(keys.nodeDeliveries(partition: 0))
        command.append(keys.sendRate(sender))
        command.append(keys.offlineBodies(partition: 0))
        command.append(keys.offlineBytes(partition: 0))
        for part in recipients.parts {
            for key in part.keys { command.append(key) }
        }

        command.appendSend(
            id: messageID, from: sender, to: group, type: type, data: data, options: options, uncheckedToken: uncheckedToken,
            clientID: clientID, settings: settings
        )
        command.append(recipients.version)
        for part in recipients.parts {
            for id in part.ids { command.append(id) }
        }
    }

    /// `{'sent', message, local, routed, queued, dropped, trimmed, sequence}`,
    /// `{'duplicate', message}`, `{'stale', version, member ids…}`, or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = Refusal(rawValue: code) else { throw reader.unexpected() }
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
        case "duplicate":
            return .duplicate(message: try reader.bytes())
        case "stale":
            let version = try reader.string()
            return .stale(version: version, members: reader.remainingIntegers())
        default:
            throw reader.unexpected()
        }
    }
}
