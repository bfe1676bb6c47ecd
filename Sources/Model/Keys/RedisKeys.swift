/// Names of the Redis keys and streams shared by the bridge, the persister and the
/// people who operate them (docs/architecture.md). The *compat* names are the old system's.
///
/// The static names are the plain layout's (one Redis). A value names the keys of one
/// ``KeyLayout``: a user's or group's keys carry its partition's tag (`keys.user(42)`);
/// the names of RedisKeys+Partitioned.swift. Keys not yet partitioned are static only.
public struct RedisKeys: Sendable, Hashable {
    public let layout: KeyLayout

    public init(layout: KeyLayout) {
        self.layout = layout
    }

    /// The plain layout's names (one Redis).
    public static let plain = RedisKeys(layout: .plain)

    /// The account's newest token (*compat*).
    public static func userToken(_ userID: Int) -> String { "chat_user_\(userID)" }
    /// `{nodeId}:{connId}` of the user's delivery target (*compat*).
    public static func online(_ userID: Int) -> String { "online_\(userID)" }
    /// Offline queue of JSON message objects, oldest first (*compat*).
    public static func offlineQueue(_ userID: Int) -> String { "chat_getmessage_\(userID)" }
    /// Message bodies queued by reference for several users, with their reference counts.
    public static let offlineBodies = "chat:offline:bodies"
    /// Per offline queue key, the bytes its messages amount to (the byte cap).
    public static let offlineBytes = "chat:offline:bytes"
    /// The id of the token the delivery target connected with: a connection with another
    /// token is a new login and kicks the target; one with the same token does not.
    public static func onlineToken(_ userID: Int) -> String { "chat:online:token:\(userID)" }
    /// The user's live WebSocket connections (`{nodeId}:{connId}`, scored by the time they
    /// expire without a heartbeat): what the sockets-per-user bound counts.
    public static func sockets(_ userID: Int) -> String { "chat:sockets:\(userID)" }
    /// The stream of deliveries, kicks and flush requests for connections held by one
    /// bridge process (the scripts build the name from the prefix, so both are here).
    public static func nodeStream(_ nodeID: String) -> String { nodeStreamPrefix + nodeID }
    public static let nodeStreamPrefix = "chat:node:"
    /// Live processes by last heartbeat.
    public static let nodes = "chat:nodes"
    /// Per process, the number of the last delivery sent to its stream: a push
    /// the process makes itself waits until it has handled the deliveries published to it
    /// before, so that one sender's messages arrive in order whichever process took them.
    public static let nodeDeliveries = "chat:nodes:deliveries"

    /// The `user` row, plus `_v` (*compat*: operators `HSET … status 0`).
    public static func user(_ userID: Int) -> String { "chat:user:\(userID)" }
    /// Unique indexes: username, uuid and device id → user id (`SET NX` claims them).
    public static func userByName(_ username: String) -> String { "chat:user:name:\(username)" }
    public static func userByUUID(_ uuid: String) -> String { "chat:user:uuid:\(uuid)" }
    public static func userByDevice(_ deviceID: String) -> String { "chat:user:device:\(deviceID)" }
    /// Every username (score 0), for `searchUser`'s "contains" (ZSCAN MATCH).
    public static let userNames = "chat:user:names"
    /// The `user_info` row.
    public static func userInfo(_ userID: Int) -> String { "chat:userinfo:\(userID)" }
    /// The last profile field a user changed, for 60 s (*compat*).
    public static func userModified(_ userID: Int) -> String { "user:modify:\(userID)" }
    /// Visitor calls of a device in the current hour (*compat*).
    public static func visitorCalls(_ deviceID: String) -> String { "chat_visitor_reg:\(deviceID)" }
    /// Per client address (docs/operations.md, *Rate limits*): visitor calls and
    /// registrations in the current hour, and the login failures' state (`lua/rate_limit.lua`).
    public static func visitorCallsFrom(_ address: String) -> String { "chat:limit:visitor:ip:\(address)" }
    public static func registrationsFrom(_ address: String) -> String { "chat:limit:register:ip:\(address)" }
    public static func loginFailuresFrom(_ address: String) -> String { "chat:limit:login:ip:\(address)" }
    /// An account's login failures' state, by the username tried (the account may not exist).
    public static func loginFailures(_ username: String) -> String { "chat:limit:login:user:\(username)" }
    /// Friend uid → JSON `goodfriend` row owned by `userID`.
    public static func friends(_ userID: Int) -> String { "chat:friends:\(userID)" }
    /// A `goodfriendapply` row (hash, plus `_v`), and the id of the one row a pair has
    /// (at most one per direction: a new request after a refusal replaces the old row).
    public static func friendRequest(_ id: Int) -> String { "chat:apply:\(id)" }
    public static func friendRequestPair(from: Int, to: Int) -> String { "chat:apply:pair:\(from):\(to)" }
    /// Ids of the requests to a user (score = id, for `listapplyfriend`), and of those
    /// still pending (`pendingCount`).
    public static func friendRequestsTo(_ userID: Int) -> String { "chat:apply:to:\(userID)" }
    public static func pendingFriendRequestsTo(_ userID: Int) -> String { "chat:apply:pending:\(userID)" }
    /// Blocked uid → JSON `block` row of the blocks `blocker` made (docs/api.md, *Blocks*):
    /// apart from the friendship rows, so that a block outlives the friendship.
    public static func blocks(_ blocker: Int) -> String { "chat:blocks:\(blocker)" }
    /// Recipient uid → messages `from` sent them before a friendship (`sendCount 1`).
    public static func quota(_ from: Int) -> String { "chat:quota:\(from)" }
    /// One user's view of a single-chat conversation, both directions, capped (*compat*).
    public static func singleHistory(owner: Int, peer: Int) -> String { "chatlog:chatlog_\(owner)_single_\(peer)" }
    /// The id of the message a WebSocket send with this client id was accepted as (idempotence).
    public static func sentByClientID(_ userID: Int, _ clientID: String) -> String { "chat:sent:\(userID):\(clientID)" }
    /// A sender's token bucket (lua/lib/rate.lua): when its next send is due.
    public static func sendRate(_ userID: Int) -> String { "chat:rate:\(userID)" }
    /// Files a user uploaded on one day (`yyyyMMdd`, UTC), expiring after it.
    public static func uploadsOfDay(_ userID: Int, day: String) -> String { "chat:uploads:\(userID):\(day)" }
    /// The gids a user belongs to, and a group's row (`status` 1 while active).
    public static func groupsOfUser(_ userID: Int) -> String { "chat:user:\(userID):groups" }
    public static func group(_ groupID: Int) -> String { groupPrefix + String(groupID) }
    public static let groupPrefix = "chat:group:"
    /// Member uid → JSON `group_user` row (every status: 1 active, 2 waiting, 0 muted).
    public static func groupMembers(_ groupID: Int) -> String { "chat:group:\(groupID):members" }
    /// A counter every change of a group's active members increments: the send script
    /// compares it with the version of the member list a bridge process cached.
    public static func groupMembersVersion(_ groupID: Int) -> String { "chat:group:\(groupID):members:v" }
    /// A group's history, capped (one list per group, not one per member).
    public static func groupHistory(_ groupID: Int) -> String { "chatlog:group_\(groupID)" }
    /// A `chat_complaint` row (hash, plus `_v`; kept after a soft delete, `is_deleted` 1).
    public static func complaint(_ id: Int) -> String { "chat:complaint:\(id)" }
    /// Ids of a user's complaints not deleted (score = id: newest first by `ZREVRANGE`).
    public static func complaintsOfUser(_ userID: Int) -> String { "chat:user:\(userID):complaints" }
    /// Id → JSON `askanswer` row (plus `_v`) of one user's question/answer pairs.
    public static func askAnswersOfUser(_ userID: Int) -> String { "chat:user:\(userID):askanswers" }
    /// The owner's uid of an `askanswer` row (`detail` by id alone).
    public static func askAnswerOwner(_ id: Int) -> String { "chat:askanswer:\(id)" }
    /// Id counters (`INCR`), kept above imported MySQL ids.
    public static func idCounter(_ entity: String) -> String { "chat:id:\(entity)" }

    // The operators' console (docs/console.md): its indexes, kept by the scripts that
    // write the rows and rebuilt by hydrate, so that no page scans the keyspace.

    /// Every user id (score = id): the console's paged list of users.
    public static let users = "chat:users"
    /// `{nickname}\0{id}` (score 0) of every user with a nickname: prefix search by
    /// nickname (`ZRANGEBYLEX`).
    public static let userNicknames = "chat:user:nicknames"
    /// A member of ``userNicknames``.
    public static func nicknameEntry(_ nickname: String, _ userID: Int) -> String { "\(nickname)\0\(userID)" }
    /// Every group id (score = gid).
    public static let groups = "chat:groups"
    /// Every complaint id (score = id), deleted ones too, and the ids by status (0 to 3).
    public static let complaints = "chat:complaints"
    public static func complaints(status: Int) -> String { "chat:complaints:status:\(status)" }
    /// An operators' console account (`id`, `name`, `password` (bcrypt), `status`,
    /// `create_time`, `update_time`, `_v`), and every account's name (score = id).
    public static func admin(_ name: String) -> String { "chat:admin:\(name)" }
    public static let admins = "chat:admins"
    public static let adminIDs = "chat:id:admin"
    /// A console session, by the SHA-256 (hex) of its cookie's token: `admin`, `csrf`,
    /// `created` (ms); expires after the idle timeout.
    public static func adminSession(_ tokenHash: String) -> String { "chat:admin:session:\(tokenHash)" }
    /// Console login failures' state (`lua/rate_limit.lua`), by the name tried and by address.
    public static func adminLoginFailures(_ name: String) -> String { "chat:limit:admin:\(name)" }
    public static func adminLoginFailuresFrom(_ address: String) -> String { "chat:limit:admin:ip:\(address)" }
    /// The newest audit rows (JSON, newest first, the last 10,000), and their id counter.
    public static let adminAudit = "chat:admin:audit"
    public static let adminAuditIDs = "chat:id:admin_audit"
    /// How many rows ``adminAudit`` keeps (the scripts trim it, hydrate refills it).
    public static let adminAuditKept = 10_000
    /// Node id → `{"sockets":n,"users":n,"at":ms}`, written by each bridge's heartbeat.
    public static let nodeStats = "chat:nodes:stats"
    /// Sends accepted in one minute (Redis' ms / 60000), expiring after two hours.
    public static func messagesInMinute(_ minute: Int64) -> String { messagesPerMinutePrefix + String(minute) }
    public static let messagesPerMinutePrefix = "chat:stats:messages:"
}

/// The two streams analytics jobs read (a versioned public contract), and the private
/// one they may not (docs/architecture.md, *Streams*; docs/operations.md, *Redis ACL*).
public enum StreamName {
    public static let messages = "chat:stream:messages"
    public static let entities = "chat:stream:entities"
    /// The whole `user` row (password hash, device id, e-mail, mobile, IPs) of every
    /// change of one, for the persister only; `entities` carries the public columns.
    public static let privateEntities = "chat:stream:private"
    /// Entries the persister gave up on (`stream`, `entry`, `attempts`, `error`,
    /// `consumer`, the original fields as `field.{name}`).
    public static let deadLetters = "chat:stream:deadletter"
    /// Consumer group of the persister.
    public static let persisterGroup = "persister"
    /// `MAXLEN ~` of every XADD: the safety net against a consumer that never reads.
    public static let defaultHardCap = 5_000_000
}
