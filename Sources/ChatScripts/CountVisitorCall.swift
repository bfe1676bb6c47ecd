import Model
import RedisClient

/// `lua/visitor_rate.lua`: counts a visitor call of a device within the window.
public struct CountVisitorCall: ChatScript {
    public static let scriptName = "visitor_rate"
    public static let layouts = [ScriptLayout(keys: ["counter"], arguments: ["window", "limit"])]

    public enum Reply: Sendable, Equatable {
        case allowed
        /// One call too many within the window (or any answer but "allowed").
        case tooMany
    }

    public var deviceID: String
    public var windowSeconds: Int
    public var limit: Int

    public init(deviceID: String, windowSeconds: Int, limit: Int) {
        self.deviceID = deviceID
        self.windowSeconds = windowSeconds
        self.limit = limit
    }

    public var keyCount: Int { 1 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(RedisKeys.visitorCalls(deviceID))
        command.append(windowSeconds)
        command.append(limit)
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        reply.kind(at: reply.root) == .integer && reply.integer(at: reply.root) == 1 ? .allowed : .tooMany
    }
}
