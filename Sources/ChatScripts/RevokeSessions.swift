import Model
import RedisClient

/// `lua/online_revoke.lua`: ends an account's sessions at once — its token deleted
/// (unless it is `keep`), every live socket kicked on whichever live process holds it,
/// its delivery target and socket set removed.
public struct RevokeSessions: ChatScript {
    public static let scriptName = "online_revoke"
    public static let layouts = [
        ScriptLayout(
            keys: ["token", "online", "online_token", "sockets", "nodes"],
            arguments: ["user", "keep", "dead_after", "stream_prefix", "partition_suffix"]
        ),
    ]

    /// The number of kicks sent (one per live socket on a live process).
    public typealias Reply = Int

    /// The layout's names: the user's partition (its copy of the live processes, and its
    /// suffix on a process's stream).
    public var keys: RedisKeys
    public var user: Int
    /// The one token that stays valid (a password change's new token); nil: none.
    public var keep: String?
    public var deadAfterMilliseconds: Int64

    public init(keys: RedisKeys, user: Int, keep: String?, deadAfterMilliseconds: Int64) {
        self.keys = keys
        self.user = user
        self.keep = keep
        self.deadAfterMilliseconds = deadAfterMilliseconds
    }

    public var keyCount: Int { 5 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(keys.userToken(user))
        command.append(keys.online(user))
        command.append(keys.onlineToken(user))
        command.append(keys.sockets(user))
        command.append(keys.nodes(partition: keys.layout.partition(ofUser: user)))
        command.append(user)
        command.append(keep ?? "")
        command.append(Int(deadAfterMilliseconds))
        command.append(RedisKeys.nodeStreamPrefix)
        command.append(keys.layout.suffix(ofUser: user))
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: scriptName)
        guard reader.errorCode == nil, let sent = reply.integer(at: reply.root) else { throw reader.unexpected() }
        return Int(sent)
    }
}
