import Model
import RedisClient

/// `lua/message_revoke_single.lua`: marks my single-chat message revoked (both stored
/// copies) and streams the revoke, within the window of its stored time. Between two
/// partitions, my copy only (`MarkRevokedCopy` then marks the recipient's in theirs).
public struct RevokeSingleMessage: ChatScript {
    public static let scriptName = "message_revoke_single"
    public static let layouts = [
        ScriptLayout(
            keys: ["sender_history", "recipient_history", "stream"],
            arguments: [
                "id", "me", "to", "window", "stream_cap", "search_limit", "from_name", "from_avatar", "notice", "peer_step",
            ]
        ),
    ]

    /// When the message was revoked (Redis' time, ms), and the peer as the stored message
    /// names them: the notice's `to_name` and `to_avatar` (never the client's).
    public struct Revocation: Sendable, Equatable {
        public var at: Int64
        public var toName: String
        public var toAvatar: String

        public init(at: Int64, toName: String, toAvatar: String) {
            self.at = at
            self.toName = toName
            self.toAvatar = toAvatar
        }
    }

    public enum Reply: Sendable, Equatable {
        /// Revoked now.
        case revoked(Revocation)
        /// It was revoked before; nothing changed.
        case alreadyRevoked(Revocation)
        case refused(Refusal)
    }

    public enum Refusal: String, Sendable, Equatable {
        /// No such message of mine to that recipient.
        case missing
        /// Past the window.
        case expired
    }

    public var keys: RedisKeys
    public var messageID: String
    public var sender: Int
    public var recipient: Int
    public var windowMilliseconds: Int64
    public var streamCap: Int
    /// The most history entries searched.
    public var searchLimit: Int
    /// The notice's `from_name` and `from_avatar`, as in the stream entry.
    public var fromName: String
    public var fromAvatar: String
    /// The notice's data, JSON text.
    public var notice: String

    public init(
        keys: RedisKeys = .plain, messageID: String, sender: Int, recipient: Int, windowMilliseconds: Int64, streamCap: Int, searchLimit: Int,
        fromName: String, fromAvatar: String, notice: String
    ) {
        self.keys = keys
        self.messageID = messageID
        self.sender = sender
        self.recipient = recipient
        self.windowMilliseconds = windowMilliseconds
        self.streamCap = streamCap
        self.searchLimit = searchLimit
        self.fromName = fromName
        self.fromAvatar = fromAvatar
        self.notice = notice
    }

    public var keyCount: Int { 3 }

    public func encode(into command: inout RedisCommandArguments) {
        let partition = keys.layout.partition(ofUser: sender)
        let acrossPartitions = partition != keys.layout.partition(ofUser: recipient)
        let mine = keys.singleHistory(owner: sender, peer: recipient)
        command.append(mine)
        command.append(acrossPartitions ? mine : keys.singleHistory(owner: recipient, peer: sender))
        command.append(keys.stream(StreamName.messages, partition: partition))

        command.append(messageID)
        command.append(sender)
        command.append(recipient)
        command.append(Int(windowMilliseconds))
        command.append(streamCap)
        command.append(searchLimit)
        command.append(fromName)
        command.append(fromAvatar)
        command.append(notice)
        command.append(acrossPartitions ? "own" : "")
    }

    /// `{'revoked' | 'already', now, to_name, to_avatar}`, or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = Refusal(rawValue: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        guard reader.count == 4 else { throw reader.unexpected() }
        let kind = try reader.string()
        let revocation = Revocation(at: try reader.integer(), toName: try reader.string(), toAvatar: try reader.string())
        return kind == "revoked" ? .revoked(revocation) : .alreadyRevoked(revocation)
    }
}
