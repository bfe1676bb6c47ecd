import Model
import Synchronization

/// This process's copy of each group's active members, with the members version
/// (`chat:group:{gid}:members:v`) it was read at, as `lua/message_send_group.lua` wants
/// them: the recipients' ids and their `online_{uid}` / `chat_getmessage_{uid}` keys,
/// built once per membership change rather than once per message. The script answers
/// `stale` with the current members when the version moved on; the sender stores them here
/// and sends again. A group never seen yet has no entry: its first send learns the list
/// the same way.
final class GroupRecipients: Sendable {
    struct Members: Sendable {
        let version: String
        /// The members' ids as text (the script's arguments).
        let ids: [String]
        /// `online_{uid}`, `chat_getmessage_{uid}` per member, in the order of `ids`.
        let keys: [String]

        init(version: String, ids: [Int]) {
            self.version = version
            self.ids = ids.map { String($0) }
            var keys: [String] = []
            keys.reserveCapacity(2 * ids.count)
            for id in ids {
                keys.append(RedisKeys.online(id))
                keys.append(RedisKeys.offlineQueue(id))
            }
            self.keys = keys
        }

        static let unknown = Members(version: "", ids: [])
    }

    /// Groups remembered; past it the cache starts over (a cold entry costs one round trip).
    let capacity: Int
    private let groups = Mutex<[Int: Members]>([:])

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func members(of group: Int) -> Members {
        groups.withLock { $0[group] } ?? .unknown
    }

    func store(_ members: Members, for group: Int) {
        groups.withLock { groups in
            if groups.count >= capacity, groups[group] == nil { groups.removeAll(keepingCapacity: true) }
            groups[group] = members
        }
    }
}
