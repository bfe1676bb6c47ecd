import Model
import RedisClient

/// `lua/node_leave.lua`: a process shutting down leaves `chat:nodes`, or, with entries
/// still in its stream, stays there as dead until a live process has reaped them; in one
/// partition (a process leaves each).
public struct LeaveNodes: ChatScript {
    public static let scriptName = "node_leave"
    public static let layouts = [ScriptLayout(keys: ["nodes", "deliveries", "stats"], arguments: ["node", "stream_prefix", "partition_suffix"])]

    /// True when it left at once; false when its stream waits to be reaped.
    public typealias Reply = Bool

    public var keys: RedisKeys
    public var partition: Int
    public var node: String

    public init(keys: RedisKeys, partition: Int = 0, node: String) {
        self.keys = keys
        self.partition = partition
        self.node = node
    }

    public var keyCount: Int { 3 }

    public func encode(into command: inout RedisCommandArguments) {
        let suffix = keys.suffix(ofPartition: partition)
        command.append(keys.nodes(partition: partition))
        command.append(keys.nodeDeliveries(partition: partition))
        command.append(RedisKeys.nodeStats + suffix)
        command.append(node)
        command.append(RedisKeys.nodeStreamPrefix)
        command.append(suffix)
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: scriptName)
        guard reader.errorCode == nil, let left = reply.integer(at: reply.root) else { throw reader.unexpected() }
        return left == 1
    }
}
