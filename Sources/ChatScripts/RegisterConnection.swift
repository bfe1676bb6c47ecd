import Model
import RedisClient

/// `lua/online_connect.lua`: a WebSocket connection becomes its user's delivery target
/// (the token and the account checked in the same step); its offline queue is flushed
/// afterwards (`ReadOfflineQueue`, `AcknowledgeOfflineQueue`).
public struct RegisterConnection: ChatScript {
    public static let scriptName = "online_connect"
    public static let layouts = [
        ScriptLayout(
            keys: ["token", "user", "online", "online_token", "nodes", "sockets", "modified"],
            arguments: ["token", "target", "token_id", "ttl", "node", "socket_limit"]
        ),
    ]

    public enum Reply: Sendable, Equatable {
        /// The previous target to kick (a new login); `avatarChanged`: `user:modify:{id}`
        /// said `avatar` (the avatar notice is due; any other value the script deleted).
        case registered(kick: DeliveryTarget?, avatarChanged: Bool)
        case refused(Refusal)
    }

    public enum Refusal: String, Sendable, Equatable {
        /// The token is not the account's current one.
        case token
        /// No such account.
        case missing
        /// The account is disabled.
        case disabled
        /// The user has `socketLimit` live sockets already.
        case sockets
    }

    public var user: Int
    public var token: String
    public var target: DeliveryTarget
    public var tokenID: String
    public var ttlMilliseconds: Int64
    /// Live sockets one user may hold across every process.
    public var socketLimit: Int

    public init(user: Int, token: String, target: DeliveryTarget, tokenID: String, ttlMilliseconds: Int64, socketLimit: Int) {
        self.user = user
        self.token = token
        self.target = target
        self.tokenID = tokenID
        self.ttlMilliseconds = ttlMilliseconds
        self.socketLimit = socketLimit
    }

    public var keyCount: Int { 7 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(RedisKeys.userToken(user))
        command.append(RedisKeys.user(user))
        command.append(RedisKeys.online(user))
        command.append(RedisKeys.onlineToken(user))
        command.append(RedisKeys.nodes)
        command.append(RedisKeys.sockets(user))
        command.append(RedisKeys.userModified(user))

        command.append(token)
        command.append(target.description)
        command.append(tokenID)
        command.append(Int(ttlMilliseconds))
        command.append(target.node)
        command.append(socketLimit)
    }

    /// `{previous target or '', 'avatar' or ''}`, or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = Refusal(rawValue: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        let kick = DeliveryTarget(try reader.string())
        return .registered(kick: kick, avatarChanged: try reader.string() == "avatar")
    }
}
