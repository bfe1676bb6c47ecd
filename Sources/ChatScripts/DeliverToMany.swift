import Model
import RedisClient

/// `lua/deliver_many.lua`: routes one message object to many users of one partition, one
/// stream entry per other process (`FanOut.split` groups users by partition).
public struct DeliverToMany: ChatScript {
    public static let scriptName = "deliver_many"
    public static let layouts = [
        ScriptLayout(
            keys: ["nodes", "deliveries", "offline_bodies", "offline_bytes"], keyTail: ["online", "queue"],
            arguments: ["message", "node", "dead_after", "queue_cap", "stream_prefix", "queue_bytes", "partition_suffix"],
            argumentTail: ["user"]
        ),
    ]

    public typealias Reply = FanOut

    public var keys: RedisKeys
    /// The partition of every user.
    public var partition: Int
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
        keys: RedisKeys, partition: Int = 0, message: [UInt8], users: [Int], node: String, deadAfterMilliseconds: Int64, queueCap: Int, queueByteCap: Int
    ) {
        self.keys = keys
        self.partition = partition
        self.message = message
        self.users = users
        self.node = node
        self.deadAfterMilliseconds = deadAfterMilliseconds
        self.queueCap = queueCap
        self.queueByteCap = queueByteCap
    }

    public var keyCount: Int { 4 + 2 * users.count }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(keys.nodes(partition: partition))
        command.append(keys.nodeDeliveries(partition: partition))
        command.append(keys.offlineBodies(partition: partition))
        command.append(keys.offlineBytes(partition: partition))
        for user in users {
            command.append(keys.online(user))
            command.append(keys.offlineQueue(user))
        }

        command.append(bytes: message)
        command.append(node)
        command.append(Int(deadAfterMilliseconds))
        command.append(queueCap)
        command.append(RedisKeys.nodeStreamPrefix)
        command.append(queueByteCap)
        command.append(keys.suffix(ofPartition: partition))
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
