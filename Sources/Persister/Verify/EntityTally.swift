import Model

/// How `persister verify` counts one entity on each side. MariaDB counts what Redis can
/// hold: rows, or distinct pairs where Redis keys a row by a pair (one friend row per
/// owner and friend: an old database's repeated rows collapse into one hash field).
enum EntityTally: Sendable {
    /// Rows in MariaDB, members of these sorted sets (an index the scripts keep, one per
    /// partition on a tagged layout) in Redis.
    case indexed([String])
    /// Per owner: `COUNT(DISTINCT distinct)` of the rows with that `owner` column in
    /// MariaDB, and `command` (`HLEN`, `ZCARD`, `EXISTS`) of the owner's key in Redis.
    /// Owners: those MariaDB has, and the members of `owners` (an index, one per
    /// partition) in Redis.
    case perOwner(owner: String, distinct: String, owners: [String], command: String, key: @Sendable (Int) -> String)
    /// The newest `kept` rows, in a list.
    case list(String, kept: Int)

    static func of(_ entity: Entity, keys: RedisKeys) -> EntityTally {
        let users = (0..<keys.layout.partitions).map(keys.users(partition:))
        let groups = (0..<keys.layout.partitions).map(keys.groups(partition:))
        return switch entity {
        case .user: .indexed(users)
        case .userInfo: .perOwner(owner: "user_id", distinct: "user_id", owners: users, command: "EXISTS", key: { keys.userInfo($0) })
        case .goodfriend: .perOwner(owner: "user_id", distinct: "friend_id", owners: users, command: "HLEN", key: { keys.friends($0) })
        case .goodfriendapply:
            .perOwner(owner: "friend_id", distinct: "id", owners: users, command: "ZCARD", key: { keys.friendRequestsTo($0) })
        case .group: .indexed(groups)
        case .groupUser: .perOwner(owner: "group_id", distinct: "user_id", owners: groups, command: "HLEN", key: { keys.groupMembers($0) })
        case .block: .perOwner(owner: "user_id", distinct: "blocked_id", owners: users, command: "HLEN", key: { keys.blocks($0) })
        case .complaint: .indexed((0..<keys.layout.partitions).map(keys.complaints(partition:)))
        case .askanswer: .perOwner(owner: "user_id", distinct: "id", owners: users, command: "HLEN", key: { keys.askAnswersOfUser($0) })
        case .admin: .indexed([keys.admins])
        case .adminAudit: .list(keys.adminAudit, kept: RedisKeys.adminAuditKept)
        }
    }
}
