import Model
import RedisClient

/// `lua/offline_return.lua`: what a dropped connection had not handed to the kernel goes
/// back to its user's offline queue, in order: failed writes to the front, pushes held
/// back behind a flush after the queue's remainder.
public struct ReturnToQueue: ChatScript {
    public static let scriptName = "offline_return"
    public static let layouts = [
        ScriptLayout(
            keys: ["queue", "offline_bodies", "offline_bytes"], arguments: ["queue_cap", "queue_bytes", "front"],
            argumentTail: ["message"]
        ),
    ]

    /// Entries the queue's cap dropped.
    public typealias Reply = Int

    public var keys: RedisKeys
    public var user: Int
    public var queueCap: Int
    public var queueByteCap: Int
    /// Oldest first; they go before everything queued.
    public var front: [[UInt8]]
    /// Oldest first; they go after everything queued.
    public var back: [[UInt8]]

    public init(keys: RedisKeys, user: Int, queueCap: Int, queueByteCap: Int, front: [[UInt8]], back: [[UInt8]]) {
        self.keys = keys
        self.user = user
        self.queueCap = queueCap
        self.queueByteCap = queueByteCap
        self.front = front
        self.back = back
    }

    public var keyCount: Int { 3 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(keys.offlineQueue(user))
        command.append(keys.offlineBodies(partition: keys.layout.partition(ofUser: user)))
        command.append(keys.offlineBytes(partition: keys.layout.partition(ofUser: user)))
        command.append(queueCap)
        command.append(queueByteCap)
        command.append(front.count)
        for message in front { command.append(bytes: message) }
        for message in back { command.append(bytes: message) }
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: scriptName)
        guard let dropped = reply.integer(at: reply.root), reader.errorCode == nil else { throw reader.unexpected() }
        return Int(dropped)
    }
}
