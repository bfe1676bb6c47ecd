import Model
import RedisClient

/// `lua/online_connect.lua`: a WebSocket connection becomes its user's delivery target
/// (the token and the account checked in the same step), with what it is sent next: the
/// account's row, the guidance's two facts and the head of its offline queue, which the
/// caller flushes (`AcknowledgeOfflineQueue`, then `ReadOfflineQueue` for the rest).
public struct RegisterConnection: ChatScript {
    public static let scriptName = "online_connect"
    public static let layouts = [
        ScriptLayout(
            keys: ["token", "user", "online", "online_token", "nodes", "sockets", "modified", "friends", "groups", "queue",
                   "offline_bodies"],
            arguments: ["token", "target", "token_id", "ttl", "node", "socket_limit", "group_prefix", "groups_checked",
                        "flush_count", "flush_bytes"]
        ),
    ]

    public enum Reply: Sendable, Equatable {
        case registered(Registered)
        case refused(Refusal)
    }

    public struct Registered: Sendable, Equatable {
        /// The previous target to kick (a new login).
        public var kick: DeliveryTarget?
        /// `user:modify:{id}` said `avatar`: the avatar notice is due (any other value
        /// the script deleted).
        public var avatarChanged: Bool
        /// The account's row, field by field.
        public var row: [String: String]
        /// The user owns an active, non-blacklisted friend row.
        public var hasActiveFriend: Bool
        /// One of the user's first `groupsChecked` groups is active.
        public var inActiveGroup: Bool
        /// The head of the offline queue, as `ReadOfflineQueue` reads it.
        public var queueHead: ReadOfflineQueue.Reply

        public init(
            kick: DeliveryTarget?, avatarChanged: Bool, row: [String: String], hasActiveFriend: Bool, inActiveGroup: Bool,
            queueHead: ReadOfflineQueue.Reply
        ) {
            self.kick = kick
            self.avatarChanged = avatarChanged
            self.row = row
            self.hasActiveFriend = hasActiveFriend
            self.inActiveGroup = inActiveGroup
            self.queueHead = queueHead
        }
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
    /// The user's groups looked at for an active one; someone in more has an active one
    /// among them in practice.
    public var groupsChecked: Int
    /// The queue's head read: at most this many entries, and about this many bytes (as
    /// `ReadOfflineQueue`'s `count` and `bytes`).
    public var flushCount: Int
    public var flushBytes: Int

    /// The layout's names: every key is the user's partition's.
    public var keys: RedisKeys

    public init(
        keys: RedisKeys, user: Int, token: String, target: DeliveryTarget, tokenID: String, ttlMilliseconds: Int64,
        socketLimit: Int, flushCount: Int, flushBytes: Int, groupsChecked: Int = 200
    ) {
        self.keys = keys
        self.user = user
        self.token = token
        self.target = target
        self.tokenID = tokenID
        self.ttlMilliseconds = ttlMilliseconds
        self.socketLimit = socketLimit
        self.groupsChecked = groupsChecked
        self.flushCount = flushCount
        self.flushBytes = flushBytes
    }

    public var keyCount: Int { 11 }

    public func encode(into command: inout RedisCommandArguments) {
        let partition = keys.layout.partition(ofUser: user)
        command.append(keys.userToken(user))
        command.append(keys.user(user))
        command.append(keys.online(user))
        command.append(keys.onlineToken(user))
        command.append(keys.nodes(partition: partition))
        command.append(keys.sockets(user))
        command.append(keys.userModified(user))
        command.append(keys.friends(user))
        // One Redis reads the groups' rows; a tagged layout the user's active groups.
        command.append(keys.layout.isTagged ? keys.activeGroupsOfUser(user) : keys.groupsOfUser(user))
        command.append(keys.offlineQueue(user))
        command.append(keys.offlineBodies(partition: partition))

        command.append(token)
        command.append(target.description)
        command.append(tokenID)
        command.append(Int(ttlMilliseconds))
        command.append(target.node)
        command.append(socketLimit)
        command.append(keys.layout.isTagged ? "" : RedisKeys.groupPrefix)
        command.append(groupsChecked)
        command.append(flushCount)
        command.append(flushBytes)
    }

    /// `{previous target or '', 'avatar' or '', {field, value, …}, 1 or 0, 1 or 0, {fingerprint,
    /// message, …}}`, or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = Refusal(rawValue: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        guard reader.count == 6 else { throw reader.unexpected() }
        let kick = DeliveryTarget(try reader.string())
        let avatarChanged = try reader.string() == "avatar"
        var fields = reply.elements(of: try reader.next()).makeIterator()
        var row: [String: String] = [:]
        while let field = fields.next(), let value = fields.next() {
            if let name = reply.string(at: field), let text = reply.string(at: value) { row[name] = text }
        }
        let hasActiveFriend = try reader.integer() == 1
        let inActiveGroup = try reader.integer() == 1
        return .registered(Registered(
            kick: kick, avatarChanged: avatarChanged, row: row, hasActiveFriend: hasActiveFriend, inActiveGroup: inActiveGroup,
            queueHead: try ReadOfflineQueue.head(in: reply, at: try reader.next(), script: scriptName)
        ))
    }
}
