import Model
import RedisClient

/// `lua/node_heartbeat.lua`: this process is alive (scored with Redis' clock); the
/// streams of dead processes are reaped into this one's; processes silent for too long
/// are pruned with their delivery sequences.
public struct RecordHeartbeat: ChatScript {
    public static let scriptName = "node_heartbeat"
    public static let layouts = [
        ScriptLayout(
            keys: ["nodes", "deliveries"], arguments: ["node", "prune_after", "reap_after", "reap_batch", "stream_prefix"]
        ),
    ]

    public struct Reply: Sendable, Equatable {
        /// How many processes are registered.
        public var registered: Int
        /// Entries moved from dead processes' streams to this one's, to be routed again.
        public var reaped: Int
        /// Entries in this process's own stream, not handled yet.
        public var backlog: Int
    }

    public var node: String
    public var pruneAfterMilliseconds: Int64
    public var reapAfterMilliseconds: Int64
    public var reapBatch: Int

    public init(node: String, pruneAfterMilliseconds: Int64, reapAfterMilliseconds: Int64, reapBatch: Int) {
        self.node = node
        self.pruneAfterMilliseconds = pruneAfterMilliseconds
        self.reapAfterMilliseconds = reapAfterMilliseconds
        self.reapBatch = reapBatch
    }

    public var keyCount: Int { 2 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(RedisKeys.nodes)
        command.append(RedisKeys.nodeDeliveries)
        command.append(node)
        command.append(Int(pruneAfterMilliseconds))
        command.append(Int(reapAfterMilliseconds))
        command.append(reapBatch)
        command.append(RedisKeys.nodeStreamPrefix)
    }

    /// `{registered, reaped, backlog}`.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        guard reader.errorCode == nil, reader.count == 3 else { throw reader.unexpected() }
        return Reply(registered: try reader.int(), reaped: try reader.int(), backlog: try reader.int())
    }
}
