import ChatScripts
import Synchronization

/// This process's copy of each group's active members, with the members version
/// (`chat:group:{gid}:members:v`) it was read at, as the group send scripts want them
/// (`lua/message_send_group.lua`, on a partitioned layout `message_group_apply` and
/// `message_group_members` for each partition's part): the recipients' ids and their
/// `online_{uid}` / `chat_getmessage_{uid}` keys, built once per membership change rather
/// than once per message. The script answers `stale` with the current members when the
/// version moved on; the sender stores them here and sends again (on a partitioned layout
/// only the group's step again). A group never seen yet has no entry: its first send learns the list
/// the same way.
final class GroupRecipients: Sendable {
    typealias Members = SendGroupMessage.Recipients

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
