import Model
import RedisClient

/// `lua/message_revoke_group.lua`: marks my group message revoked and streams the revoke,
/// within the window of its stored time; names the notice (to the group as the stored
/// message names it, never as the client says) and says who it goes to.
public struct RevokeGroupMessage: ChatScript {
    public static let scriptName = "message_revoke_group"
    public static let layouts = [
        ScriptLayout(
            keys: ["group", "members", "history", "stream"],
            arguments: ["id", "me", "group", "window", "stream_cap", "search_limit", "my_name", "my_avatar"]
        ),
    ]

    /// The notice's time (Redis' time, ms) and names, and the members it goes to (every
    /// row but applicants, me included).
    public struct Revocation: Sendable, Equatable {
        public var at: Int64
        public var fromName: String
        public var fromAvatar: String
        /// The group as the stored message names it.
        public var toName: String
        public var toAvatar: String
        public var members: [Int]
    }

    public enum Reply: Sendable, Equatable {
        case revoked(Revocation)
        /// It was revoked before; nothing changed.
        case alreadyRevoked(Revocation)
        case refused(Refusal)
    }

    public enum Refusal: String, Sendable, Equatable {
        /// The group is gone or not active.
        case group
        /// I have no row in the group.
        case notMember = "not_member"
        /// No such message of mine in the group.
        case missing
        /// Past the window.
        case expired
    }

    public var keys: RedisKeys
    public var messageID: String
    public var sender: Int
    public var group: Int
    public var windowMilliseconds: Int64
    public var streamCap: Int
    /// The most history entries searched.
    public var searchLimit: Int
    /// My name and avatar, used when I have no group nickname / avatar.
    public var myName: String
    public var myAvatar: String

    public init(
        keys: RedisKeys, messageID: String, sender: Int, group: Int, windowMilliseconds: Int64, streamCap: Int, searchLimit: Int,
        myName: String, myAvatar: String
    ) {
        self.keys = keys
        self.messageID = messageID
        self.sender = sender
        self.group = group
        self.windowMilliseconds = windowMilliseconds
        self.streamCap = streamCap
        self.searchLimit = searchLimit
        self.myName = myName
        self.myAvatar = myAvatar
    }

    public var keyCount: Int { 4 }

    public func encode(into command: inout RedisCommandArguments) {
        // All of the group's partition: the revoke entry goes to its shard.
        command.append(keys.group(group))
        command.append(keys.groupMembers(group))
        command.append(keys.groupHistory(group))
        command.append(keys.stream(StreamName.messages, partition: keys.layout.partition(ofGroup: group)))

        command.append(messageID)
        command.append(sender)
        command.append(group)
        command.append(Int(windowMilliseconds))
        command.append(streamCap)
        command.append(searchLimit)
        command.append(myName)
        command.append(myAvatar)
    }

    /// `{'revoked' | 'already', now, from_name, from_avatar, to_name, to_avatar, member ids…}`, or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = Refusal(rawValue: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        guard reader.count >= 6 else { throw reader.unexpected() }
        let kind = try reader.string()
        let revocation = Revocation(
            at: try reader.integer(), fromName: try reader.string(), fromAvatar: try reader.string(),
            toName: try reader.string(), toAvatar: try reader.string(), members: reader.remainingIntegers()
        )
        return kind == "revoked" ? .revoked(revocation) : .alreadyRevoked(revocation)
    }
}
