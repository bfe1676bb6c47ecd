import Model
import RedisClient

/// `lua/node_send.lua`: a kick or a flush request for a connection held by another
/// process, appended to that process's stream if it is alive.
public struct SendToNode: ChatScript {
    public static let scriptName = "node_send"
    public static let layouts = [
        ScriptLayout(keys: ["nodes"], arguments: ["node", "dead_after", "envelope", "stream_prefix"]),
    ]

    /// True when sent; false when the process is dead (its connections are gone).
    public typealias Reply = Bool

    /// The target process.
    public var node: String
    public var deadAfterMilliseconds: Int64
    public var envelope: NodeEnvelope

    public init(node: String, deadAfterMilliseconds: Int64, envelope: NodeEnvelope) {
        self.node = node
        self.deadAfterMilliseconds = deadAfterMilliseconds
        self.envelope = envelope
    }

    public var keyCount: Int { 1 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(RedisKeys.nodes)
        command.append(node)
        command.append(Int(deadAfterMilliseconds))
        command.append(bytes: envelope.encoded())
        command.append(RedisKeys.nodeStreamPrefix)
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: scriptName)
        guard reader.errorCode == nil, let sent = reply.integer(at: reply.root) else { throw reader.unexpected() }
        return sent == 1
    }
}
