import Model
import RedisClient

/// `lua/deliver.lua`: routes one message object to its user's delivery target, or
/// queues it, in the user's partition.
public struct DeliverMessage: ChatScript {
    public static let scriptName = "deliver"
    public static let layouts = [
        ScriptLayout(
            keys: ["online", "queue", "nodes", "deliveries", "offline_bodies", "offline_bytes"],
            arguments: [
                "user", "message", "node", "dead_after", "queue_cap", "excluded", "stream_prefix", "queue_bytes",
                "partition_suffix",
            ]
        ),
    ]

    public typealias Reply = DeliveryRoute

    public var keys: RedisKeys
    public var user: Int
    /// The message object, JSON.
    public var message: [UInt8]
    /// The calling process's node id.
    public var node: String
    public var deadAfterMilliseconds: Int64
    public var queueCap: Int
    /// The offline queue's cap in bytes.
    public var queueByteCap: Int
    /// A target the caller found gone: treated as no target.
    public var excluded: DeliveryTarget?

    public init(
        keys: RedisKeys, user: Int, message: [UInt8], node: String, deadAfterMilliseconds: Int64, queueCap: Int, queueByteCap: Int,
        excluded: DeliveryTarget?
    ) {
        self.keys = keys
        self.user = user
        self.message = message
        self.node = node
        self.deadAfterMilliseconds = deadAfterMilliseconds
        self.queueCap = queueCap
        self.queueByteCap = queueByteCap
        self.excluded = excluded
    }

    public var keyCount: Int { 6 }

    public func encode(into command: inout RedisCommandArguments) {
        let partition = keys.layout.partition(ofUser: user)
        command.append(keys.online(user))
        command.append(keys.offlineQueue(user))
        command.append(keys.nodes(partition: partition))
        command.append(keys.nodeDeliveries(partition: partition))
        command.append(keys.offlineBodies(partition: partition))
        command.append(keys.offlineBytes(partition: partition))

        command.append(user)
        command.append(bytes: message)
        command.append(node)
        command.append(Int(deadAfterMilliseconds))
        command.append(queueCap)
        command.append(excluded?.description ?? "")
        command.append(RedisKeys.nodeStreamPrefix)
        command.append(queueByteCap)
        command.append(keys.suffix(ofPartition: partition))
    }

    /// `{'local', conn, sequence}`, `{'routed', node}` or `{'queued', dropped}`.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        guard reader.errorCode == nil else { throw reader.unexpected() }
        switch try reader.string() {
        case "local":
            guard let connection = UInt64(try reader.string()) else { throw reader.unexpected() }
            let after = try reader.integer()
            guard after >= 0 else { throw reader.unexpected() }
            return .local(connection: connection, after: UInt64(after))
        case "routed":
            return .routed(node: try reader.string())
        case "queued":
            return .queued(dropped: try reader.int())
        default:
            throw reader.unexpected()
        }
    }
}
