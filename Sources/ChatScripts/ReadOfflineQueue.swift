import Model
import RedisClient

/// `lua/offline_read.lua`: the head of a user's offline queue for a flush, references
/// resolved, nothing removed.
public struct ReadOfflineQueue: ChatScript {
    public static let scriptName = "offline_read"
    public static let layouts = [
        ScriptLayout(keys: ["queue", "offline_bodies"], arguments: ["count", "bytes"]),
    ]

    /// The entries read, oldest first.
    public struct Reply: Sendable, Equatable {
        /// Per entry, what `AcknowledgeOfflineQueue` needs to remove it once written.
        public var fingerprints: [String]
        /// Per entry, the message object (JSON); nil when its body is gone (nothing to
        /// write, but the entry is removed with the others).
        public var messages: [[UInt8]?]

        public var isEmpty: Bool { fingerprints.isEmpty }
    }

    public var keys: RedisKeys
    public var user: Int
    /// At most this many entries.
    public var count: Int
    /// At most about this many bytes of messages (the first entry whatever its size).
    public var bytes: Int

    public init(keys: RedisKeys, user: Int, count: Int, bytes: Int) {
        self.keys = keys
        self.user = user
        self.count = count
        self.bytes = bytes
    }

    public var keyCount: Int { 2 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(keys.offlineQueue(user))
        command.append(keys.offlineBodies(partition: keys.layout.partition(ofUser: user)))
        command.append(count)
        command.append(bytes)
    }

    /// `{fingerprint, message, fingerprint, message, …}`.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        try head(in: reply, at: reply.root, script: scriptName)
    }

    /// A queue's head as the script returns it, at `position` of a reply (`online_connect`
    /// returns one inside its own).
    static func head(in reply: RedisFlatReply, at position: RedisFlatReply.Position, script: String) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: script)
        let elements = reply.elements(of: position)
        guard reply.kind(at: position) == .array, elements.count % 2 == 0 else { throw reader.unexpected() }
        var read = Reply(fingerprints: [], messages: [])
        read.fingerprints.reserveCapacity(elements.count / 2)
        read.messages.reserveCapacity(elements.count / 2)
        var iterator = elements.makeIterator()
        while let fingerprint = iterator.next(), let message = iterator.next() {
            guard let text = reply.string(at: fingerprint), let range = reply.byteRange(at: message) else { throw reader.unexpected() }
            read.fingerprints.append(text)
            read.messages.append(range.isEmpty ? nil : Array(reply.bytes[range]))
        }
        return read
    }
}
