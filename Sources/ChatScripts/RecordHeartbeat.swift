import Model
import RedisClient

/// `lua/node_heartbeat.lua`: this process is alive (scored with Redis' clock); the
/// streams of dead processes are reaped into this one's; processes silent for too long
/// are pruned with their delivery sequences. One run per partition (`partition`): only
/// partition 0's records the dashboard's figures.
public struct RecordHeartbeat: ChatScript {
    public static let scriptName = "node_heartbeat"
    public static let layouts = [
        ScriptLayout(
            keys: ["nodes", "deliveries", "stats"],
            arguments: [
                "node", "prune_after", "reap_after", "reap_batch", "stream_prefix", "sockets", "users", "messages", "messages_prefix",
                "partition_suffix",
            ]
        ),
    ]

    public struct Reply: Sendable, Equatable {
        /// How many processes are registered.
        public var registered: Int
        /// Entries moved from dead processes' streams to this one's, to be routed again.
        public var reaped: Int
        /// Entries in this process's own stream, not handled yet.
        public var backlog: Int

        public init(registered: Int, reaped: Int, backlog: Int) {
            self.registered = registered
            self.reaped = reaped
            self.backlog = backlog
        }
    }

    public var keys: RedisKeys
    /// The partition this run beats in.
    public var partition: Int
    public var node: String
    public var pruneAfterMilliseconds: Int64
    public var reapAfterMilliseconds: Int64
    public var reapBatch: Int
    /// The dashboard's figures (chat:nodes:stats): this process's live WebSocket
    /// connections and the distinct users they belong to.
    public var sockets: Int
    public var users: Int
    /// Sends accepted since the last beat that counted, added to the minute's counter.
    public var messages: Int

    public init(
        keys: RedisKeys, partition: Int = 0, node: String, pruneAfterMilliseconds: Int64, reapAfterMilliseconds: Int64, reapBatch: Int, sockets: Int = 0,
        users: Int = 0, messages: Int = 0
    ) {
        self.keys = keys
        self.partition = partition
        self.node = node
        self.pruneAfterMilliseconds = pruneAfterMilliseconds
        self.reapAfterMilliseconds = reapAfterMilliseconds
        self.reapBatch = reapBatch
        self.sockets = sockets
        self.users = users
        self.messages = messages
    }

    public var keyCount: Int { 3 }

    public func encode(into command: inout RedisCommandArguments) {
        let suffix = keys.suffix(ofPartition: partition)
        command.append(keys.nodes(partition: partition))
        command.append(keys.nodeDeliveries(partition: partition))
        command.append(RedisKeys.nodeStats + suffix)
        command.append(node)
        command.append(Int(pruneAfterMilliseconds))
        command.append(Int(reapAfterMilliseconds))
        command.append(reapBatch)
        command.append(RedisKeys.nodeStreamPrefix)
        command.append(sockets)
        command.append(users)
        command.append(messages)
        command.append(partition == 0 ? RedisKeys.messagesPerMinutePrefix : "")
        command.append(suffix)
    }

    /// `{registered, reaped, backlog}`.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        guard reader.errorCode == nil, reader.count == 3 else { throw reader.unexpected() }
        return Reply(registered: try reader.int(), reaped: try reader.int(), backlog: try reader.int())
    }
}
