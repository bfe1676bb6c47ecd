import Model
import RedisClient

/// `lua/message_revoke_peer.lua`: the recipient's copy of a single-chat message revoked
/// between two partitions (in the recipient's), after `RevokeSingleMessage` revoked mine.
public struct MarkRevokedCopy: ChatScript {
    public static let scriptName = "message_revoke_peer"
    public static let layouts = [
        ScriptLayout(keys: ["recipient_history"], arguments: ["id", "me", "to", "search_limit"]),
    ]

    /// True when their copy was marked now (its notice is due); false when it had been
    /// before, or is not there.
    public typealias Reply = Bool

    public var keys: RedisKeys
    public var messageID: String
    public var sender: Int
    public var recipient: Int
    public var searchLimit: Int

    public init(keys: RedisKeys, messageID: String, sender: Int, recipient: Int, searchLimit: Int) {
        self.keys = keys
        self.messageID = messageID
        self.sender = sender
        self.recipient = recipient
        self.searchLimit = searchLimit
    }

    public var keyCount: Int { 1 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(keys.singleHistory(owner: recipient, peer: sender))
        command.append(messageID)
        command.append(sender)
        command.append(recipient)
        command.append(searchLimit)
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: scriptName)
        guard reader.errorCode == nil, let marked = reply.integer(at: reply.root) else { throw reader.unexpected() }
        return marked == 1
    }
}
