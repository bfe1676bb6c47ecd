import Model
import RedisClient

/// `lua/online_refresh.lua`: the heartbeat of a batch of this process's live
/// connections: each target's TTL renewed, or the target claimed again when it is gone;
/// each connection kept among its user's live sockets — unless its token is no longer
/// the account's current one or the account is disabled: then it is revoked, to kick.
public struct RefreshConnections: ChatScript {
    public static let scriptName = "online_refresh"
    public static let layouts = [
        ScriptLayout(keys: [], keyTail: ["online", "online_token", "sockets", "token", "user"], arguments: ["ttl"], argumentTail: ["target", "token_id"]),
    ]

    /// One connection of the batch.
    public struct Connection: Sendable {
        public var user: Int
        public var target: DeliveryTarget
        /// The id of the token it connected with (`TokenService.tokenID(of:)`).
        public var tokenID: String

        public init(user: Int, target: DeliveryTarget, tokenID: String) {
            self.user = user
            self.target = target
            self.tokenID = tokenID
        }
    }

    /// What happened to one connection's target.
    public enum Outcome: Sendable, Equatable {
        case refreshed
        /// It was gone (Redis lost it, or this process was taken for dead): claimed again;
        /// the user's offline queue may hold messages meanwhile.
        case claimedAgain
        /// A newer connection is the target.
        case notTarget
        /// Its token is no longer the account's current one, or the account is disabled:
        /// no longer a live socket nor the target; the caller kicks it.
        case revoked
    }

    /// One outcome per connection, in order.
    public typealias Reply = [Outcome]

    /// The layout's names. On a tagged layout every connection's user is in one
    /// partition: the heartbeat runs one batch per partition.
    public var keys: RedisKeys
    public var connections: [Connection]
    public var ttlMilliseconds: Int64

    public init(keys: RedisKeys, connections: [Connection], ttlMilliseconds: Int64) {
        self.keys = keys
        self.connections = connections
        self.ttlMilliseconds = ttlMilliseconds
    }

    public var keyCount: Int { 5 * connections.count }

    public func encode(into command: inout RedisCommandArguments) {
        for connection in connections {
            command.append(keys.online(connection.user))
            command.append(keys.onlineToken(connection.user))
            command.append(keys.sockets(connection.user))
            command.append(keys.userToken(connection.user))
            command.append(keys.user(connection.user))
        }
        command.append(Int(ttlMilliseconds))
        for connection in connections {
            command.append(connection.target.description)
            command.append(connection.tokenID)
        }
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        guard reader.errorCode == nil else { throw reader.unexpected() }
        var outcomes: Reply = []
        outcomes.reserveCapacity(reader.count)
        while let position = reader.nextIfAny() {
            switch reply.integer(at: position) {
            case 1: outcomes.append(.refreshed)
            case 2: outcomes.append(.claimedAgain)
            case 3: outcomes.append(.revoked)
            default: outcomes.append(.notTarget)
            }
        }
        return outcomes
    }
}
