import Model
import RedisClient

/// `lua/online_release.lua`: a closing connection stops being its user's delivery target,
/// only if it still is; it is no longer one of its user's live sockets either way.
public struct ReleaseConnection: ChatScript {
    public static let scriptName = "online_release"
    public static let layouts = [ScriptLayout(keys: ["online", "online_token", "sockets"], arguments: ["target"])]

    public enum Reply: Sendable, Equatable {
        case released
        /// A newer connection is the target: left alone.
        case notTarget
    }

    public var user: Int
    public var target: DeliveryTarget

    public var keys: RedisKeys

    public init(keys: RedisKeys, user: Int, target: DeliveryTarget) {
        self.keys = keys
        self.user = user
        self.target = target
    }

    public var keyCount: Int { 3 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(keys.online(user))
        command.append(keys.onlineToken(user))
        command.append(keys.sockets(user))
        command.append(target.description)
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: scriptName)
        guard reader.errorCode == nil, let value = reply.integer(at: reply.root) else { throw reader.unexpected() }
        return value == 1 ? .released : .notTarget
    }
}
