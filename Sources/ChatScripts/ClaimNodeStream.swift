import Model
import RedisClient

/// `lua/node_claim.lua`: a starting process takes over what an earlier process with its
/// node id left in its stream, and starts its delivery numbering afresh.
public struct ClaimNodeStream: ChatScript {
    public static let scriptName = "node_claim"
    public static let layouts = [ScriptLayout(keys: ["deliveries"], arguments: ["node", "stream_prefix"])]

    /// The id of the newest entry the earlier process left (`0-0`: none): entries up to
    /// it are to be routed again.
    public typealias Reply = String

    public var node: String

    public init(node: String) {
        self.node = node
    }

    public var keyCount: Int { 1 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(RedisKeys.nodeDeliveries)
        command.append(node)
        command.append(RedisKeys.nodeStreamPrefix)
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: scriptName)
        guard reader.errorCode == nil, let id = reply.string(at: reply.root), !id.isEmpty else { throw reader.unexpected() }
        return id
    }
}
