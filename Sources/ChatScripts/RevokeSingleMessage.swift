import Model
import RedisClient

/// `lua/message_revoke_single.lua`: marks my single-chat message revoked (both stored
/// copies) and streams the revoke, within the window of its stored time.
public struct RevokeSingleMessage: ChatScript {
    public static let scriptName = "message_revoke_single"
    public static let layouts = [
        ScriptLayout(
            keys: ["sender_history", "recipient_history", "stream"],
            arguments: [
                "id", "me", "to", "window", "stream_cap", "search_limit", "from_name", "from_avatar", "to_name",
                "to_avatar", "notice",
            ]
        ),
    ]

    public enum Reply: Sendable, Equatable {
        /// Revoked now (Redis' time, ms).
        case revoked(at: Int64)
        /// It was revoked before; nothing changed.
        case alreadyRevoked(at: Int64)
        case refused(Refusal)
    }

    public enum Refusal: String, Sendable, Equatable {
        /// No such message of mine to that recipient.
        case missing
        /// Past the window.
        case expired
    }

    /// The names the revoke notice carries, as in the stream entry.
    public struct Names: Sendable {
        public var fromName: String
        public var fromAvatar: String
        public var toName: String
        public var toAvatar: String

        public init(fromName: String, fromAvatar: String, toName: String, toAvatar: String) {
            self.fromName = fromName
            self.fromAvatar = fromAvatar
            self.toName = toName
            self.toAvatar = toAvatar
        }
    }

    public var messageID: String
    public var sender: Int
    public var recipient: Int
    public var windowMilliseconds: Int64
    public var streamCap: Int
    /// The most history entries searched.
    public var searchLimit: Int
    public var names: Names
    /// The notice's data, JSON text.
    public var notice: String

    public init(
        messageID: String, sender: Int, recipient: Int, windowMilliseconds: Int64, streamCap: Int, searchLimit: Int,
        names: Names, notice: String
    ) {
        self.messageID = messageID
        self.sender = sender
        self.recipient = recipient
        self.windowMilliseconds = windowMilliseconds
        self.streamCap = streamCap
        self.searchLimit = searchLimit
        self.names = names
        self.notice = notice
    }

    public var keyCount: Int { 3 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(RedisKeys.singleHistory(owner: sender, peer: recipient))
        command.append(RedisKeys.singleHistory(owner: recipient, peer: sender))
        command.append(StreamName.messages)

        command.append(messageID)
        command.append(sender)
        command.append(recipient)
        command.append(Int(windowMilliseconds))
        command.append(streamCap)
        command.append(searchLimit)
        command.append(names.fromName)
        command.append(names.fromAvatar)
        command.append(names.toName)
        command.append(names.toAvatar)
        command.append(notice)
    }

    /// `{'revoked' | 'already', now}`, or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = Refusal(rawValue: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        guard reader.count == 2 else { throw reader.unexpected() }
        let kind = try reader.string()
        let at = try reader.integer()
        return kind == "revoked" ? .revoked(at: at) : .alreadyRevoked(at: at)
    }
}
