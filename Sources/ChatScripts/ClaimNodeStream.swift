import Model
import RedisClient

/// `lua/node_claim.lua`: a starting process takes over what an earlier process with its
/// node id left in its stream, and starts its delivery numbering afresh, in one
/// partition (a process claims each partition's stream).
public struct ClaimNodeStream: ChatScript {
    public static let scriptName = "node_claim"
    public static let layouts = [ScriptLayout(keys: ["deliveries"], arguments: ["node", "stream_prefix", "partition_suffix"])]

    /// The id of the newest entry the earlier process left (`0-0`: none): entries up to
    /// it are to be routed again.
    public typealias Reply = String

    public var keys: RedisKeys
    public var partition: Int
    public var node: String

    public init(keys: RedisKeys, partition: Int = 0, node: String) {
        self.keys = keys
        self.partition = partition
        self.node = node
    }

    public var keyCount: Int { 1 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(keys.nodeDeliveries(partition: partition))
        command.append(node)
        command.append(RedisKeys.nodeStreamPrefix)
        command.append(keys.suffix(ofPartition: partition))
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: scriptName)
        guard reader.errorCode == nil, let id = reply.string(at: reply.root), !id.isEmpty else { throw reader.unexpected() }
        return id
    }
}
