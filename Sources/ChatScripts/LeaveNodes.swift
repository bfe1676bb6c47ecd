import Model
import RedisClient

/// `lua/node_leave.lua`: a process shutting down leaves `chat:nodes`, or, with entries
/// still in its stream, stays there as dead until a live process has reaped them.
public struct LeaveNodes: ChatScript {
    public static let scriptName = "node_leave"
    public static let layouts = [ScriptLayout(keys: ["nodes", "deliveries", "stats"], arguments: ["node", "stream_prefix"])]

    /// True when it left at once; false when its stream waits to be reaped.
    public typealias Reply = Bool

    public var node: String

    public init(node: String) {
        self.node = node
    }

    public var keyCount: Int { 3 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(RedisKeys.nodes)
        command.append(RedisKeys.nodeDeliveries)
        command.append(RedisKeys.nodeStats)
        command.append(node)
        command.append(RedisKeys.nodeStreamPrefix)
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: scriptName)
        guard reader.errorCode == nil, let left = reply.integer(at: reply.root) else { throw reader.unexpected() }
        return left == 1
    }
}
