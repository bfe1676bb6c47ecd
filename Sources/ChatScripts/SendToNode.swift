import Model
import RedisClient

/// `lua/node_send.lua`: a kick or a flush request for a connection held by another
/// process, appended to that process's stream if it is alive: its stream in the partition
/// of the connection's user, behind the deliveries routed to that user.
public struct SendToNode: ChatScript {
    public static let scriptName = "node_send"
    public static let layouts = [
        ScriptLayout(keys: ["nodes"], arguments: ["node", "dead_after", "envelope", "stream_prefix", "partition_suffix"]),
    ]

    /// True when sent; false when the process is dead (its connections are gone).
    public typealias Reply = Bool

    public var keys: RedisKeys
    /// The partition of the connection's user.
    public var partition: Int
    /// The target process.
    public var node: String
    public var deadAfterMilliseconds: Int64
    public var envelope: NodeEnvelope

    public init(keys: RedisKeys, partition: Int, node: String, deadAfterMilliseconds: Int64, envelope: NodeEnvelope) {
        self.keys = keys
        self.partition = partition
        self.node = node
        self.deadAfterMilliseconds = deadAfterMilliseconds
        self.envelope = envelope
    }

    public var keyCount: Int { 1 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(keys.nodes(partition: partition))
        command.append(node)
        command.append(Int(deadAfterMilliseconds))
        command.append(bytes: envelope.encoded())
        command.append(RedisKeys.nodeStreamPrefix)
        command.append(keys.suffix(ofPartition: partition))
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: scriptName)
        guard reader.errorCode == nil, let sent = reply.integer(at: reply.root) else { throw reader.unexpected() }
        return sent == 1
    }
}
