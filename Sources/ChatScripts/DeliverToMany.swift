import Model
import RedisClient

/// `lua/deliver_many.lua`: routes one message object to many users, one publish per
/// other process.
public struct DeliverToMany: ChatScript {
    public static let scriptName = "deliver_many"
    public static let layouts = [
        ScriptLayout(
            keys: ["nodes", "deliveries", "offline_bodies", "offline_bytes"], keyTail: ["online", "queue"],
            arguments: ["message", "node", "dead_after", "queue_cap", "stream_prefix", "queue_bytes"],
            argumentTail: ["user"]
        ),
    ]

    public typealias Reply = FanOut

    /// The message object, JSON.
    public var message: [UInt8]
    public var users: [Int]
    /// The calling process's node id.
    public var node: String
    public var deadAfterMilliseconds: Int64
    public var queueCap: Int
    /// The offline queue's cap in bytes.
    public var queueByteCap: Int

    public init(
        message: [UInt8], users: [Int], node: String, deadAfterMilliseconds: Int64, queueCap: Int, queueByteCap: Int
    ) {
        self.message = message
        self.users = users
        self.node = node
        self.deadAfterMilliseconds = deadAfterMilliseconds
        self.queueCap = queueCap
        self.queueByteCap = queueByteCap
    }

    public var keyCount: Int { 4 + 2 * users.count }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(RedisKeys.nodes)
        command.append(RedisKeys.nodeDeliveries)
        command.append(RedisKeys.offlineBodies)
        command.append(RedisKeys.offlineBytes)
        for user in users {
            command.append(RedisKeys.online(user))
            command.append(RedisKeys.offlineQueue(user))
        }

        command.append(bytes: message)
        command.append(node)
        command.append(Int(deadAfterMilliseconds))
        command.append(queueCap)
        command.append(RedisKeys.nodeStreamPrefix)
        command.append(queueByteCap)
        for user in users { command.append(user) }
    }

    /// `{local addresses, routed, queued, dropped, sequence}`.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        guard reader.errorCode == nil, reader.count == 5 else { throw reader.unexpected() }
        var fanOut = try FanOut.read(from: &reader)
        let after = try reader.integer()
        guard after >= 0 else { throw reader.unexpected() }
        fanOut.localAfter = UInt64(after)
        return fanOut
    }
}
