import Model
import RedisClient

/// `lua/offline_ack.lua`: removes from the head of a user's offline queue the entries a
/// flush wrote, and only those; answers how many it removed.
public struct AcknowledgeOfflineQueue: ChatScript {
    public static let scriptName = "offline_ack"
    public static let layouts = [
        ScriptLayout(keys: ["queue", "offline_bodies", "offline_bytes"], arguments: [], argumentTail: ["fingerprint"]),
    ]

    public typealias Reply = Int

    public var keys: RedisKeys
    public var user: Int
    /// The fingerprints `ReadOfflineQueue` gave the entries written, oldest first.
    public var fingerprints: ArraySlice<String>

    public init(keys: RedisKeys, user: Int, fingerprints: ArraySlice<String>) {
        self.keys = keys
        self.user = user
        self.fingerprints = fingerprints
    }

    public var keyCount: Int { 3 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(keys.offlineQueue(user))
        command.append(keys.offlineBodies(partition: keys.layout.partition(ofUser: user)))
        command.append(keys.offlineBytes(partition: keys.layout.partition(ofUser: user)))
        for fingerprint in fingerprints { command.append(fingerprint) }
    }

    /// The number of entries removed.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        guard let removed = reply.integer(at: reply.root) else {
            throw ScriptReplyReader(reply, script: scriptName).unexpected()
        }
        return Int(removed)
    }
}
