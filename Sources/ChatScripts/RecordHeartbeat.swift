import Model
import RedisClient

/// `lua/node_heartbeat.lua`: this process is alive (scored with Redis' clock); processes
/// silent for too long are pruned with their delivery sequences.
public struct RecordHeartbeat: ChatScript {
    public static let scriptName = "node_heartbeat"
    public static let layouts = [ScriptLayout(keys: ["nodes", "deliveries"], arguments: ["node", "prune_after"])]

    /// How many processes are registered.
    public typealias Reply = Int

    public var node: String
    public var pruneAfterMilliseconds: Int64

    public init(node: String, pruneAfterMilliseconds: Int64) {
        self.node = node
        self.pruneAfterMilliseconds = pruneAfterMilliseconds
    }

    public var keyCount: Int { 2 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(RedisKeys.nodes)
        command.append(RedisKeys.nodeDeliveries)
        command.append(node)
        command.append(Int(pruneAfterMilliseconds))
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: scriptName)
        guard let count = reply.integer(at: reply.root), reader.errorCode == nil else { throw reader.unexpected() }
        return Int(count)
    }
}
