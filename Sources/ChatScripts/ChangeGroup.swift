import Model
import RedisClient

/// `lua/group_update.lua`: every change of a group and its members, with their entity
/// events.
public struct ChangeGroup: ChatScript {
    public static let scriptName = "group_update"
    private static let keys = ["group", "members", "members_version", "stream"]
    private static let arguments = ["op", "stream_cap", "now", "me"]
    public static let layouts = [
        ScriptLayout(
            operation: "create", keys: keys + ["groups"], keyTail: ["member_user", "member_groups", "member_blocks"],
            arguments: arguments + ["group_id", "uuid", "name", "avatar", "first_row_id"], argumentTail: ["member"]
        ),
        ScriptLayout(operation: "rename", keys: keys, arguments: arguments + ["value"]),
        ScriptLayout(operation: "remark", keys: keys, arguments: arguments + ["value"]),
        ScriptLayout(operation: "policy", keys: keys, arguments: arguments + ["value"]),
        ScriptLayout(operation: "nickname", keys: keys, arguments: arguments + ["nickname"]),
        ScriptLayout(
            operation: "remove", keys: keys + ["user_groups"], keyTail: ["avatar_user"], arguments: arguments + ["user"],
            argumentTail: ["avatar_user_id"]
        ),
        ScriptLayout(
            operation: "join", keys: keys + ["joiner_user", "joiner_groups", "joiner_blocks"], keyTail: ["avatar_user"],
            arguments: arguments + ["joiner", "inviter", "row_id", "max_members"], argumentTail: ["avatar_user_id"]
        ),
        ScriptLayout(
            operation: "decide", keys: keys + ["user_groups"], keyTail: ["avatar_user"],
            arguments: arguments + ["user", "decision"], argumentTail: ["avatar_user_id"]
        ),
        ScriptLayout(
            operation: "leave", keys: keys + ["history"], keyTail: ["member_groups"], arguments: arguments,
            argumentTail: ["member_id"]
        ),
    ]

    /// A setting of the group (the owner's) or of my membership.
    public enum Setting: String, Sendable {
        case rename, remark, policy, nickname
    }

    public enum Operation: Sendable {
        /// A new group, the members given active (me first).
        case create(uuid: String, name: String, avatar: String, firstRowID: Int, members: [Int])
        case set(Setting, value: String)
        /// `avatarUsers`: the users whose avatars the recomputation may read.
        case remove(user: Int, avatarUsers: [Int])
        /// `maxMembers`: rows the group may have, applicants included.
        case join(joiner: Int, inviter: Int64, rowID: Int, avatarUsers: [Int], maxMembers: Int)
        case decide(user: Int, agree: Bool, avatarUsers: [Int])
        /// The owner dissolves the group, a member quits; `members`: the users whose group
        /// lists change (every member for the owner, else me).
        case leave(members: [Int])
    }

    /// What a change did; the names of the script's results.
    public enum Outcome: String, Sendable, Equatable {
        /// rename, remark.
        case updated = "OK"
        case joined, waiting, agreed, refused, dissolved, quit, removed
        /// policy, nickname.
        case set
    }

    /// A change done: the group row (as it was, for `dissolved`), my member row (rename,
    /// remark, leave; as it was), JSON, and the users the change's notice goes to.
    public struct Change: Sendable, Equatable {
        public var outcome: Outcome
        public var group: [UInt8]?
        public var actor: [UInt8]?
        public var recipients: [Int]
    }

    public enum Reply: Sendable, Equatable {
        case created
        case changed(Change)
        /// The avatar recomputation needs these users' keys (the members changed since
        /// the caller read them): send again with them.
        case needsAvatars(users: [Int])
        case refused(Refusal)
    }

    /// The script's error codes.
    public enum Refusal: String, Error, Sendable, Hashable {
        case notOwner = "not_owner"
        case notMember = "not_member"
        case removingSelf = "self"
        case groupMissing = "group_missing"
        case illegal
        case pending
        case already
        /// The group has its most members (applicants included).
        case full
        /// Create: the new gid has a row or members already (the id counter went back).
        case idTaken = "id_taken"
        case joinerMissing = "joiner_missing"
        case loginFirst = "login_first"
        /// Create, join: a user I would put into the group blocks me (docs/api.md, *Blocks*).
        case blocked
        case missing
        /// The members (or users) changed between the caller's read and the script.
        case stale
    }

    public var group: Int
    public var me: Int
    public var operation: Operation
    /// The layout's names: the group's keys and its stream shard in the group's partition;
    /// a member's keys in the member's (so on a tagged layout only the settings — rename,
    /// remark, policy, nickname — run here: the others are `GroupChangeStep`'s steps).
    public var keys: RedisKeys
    public var streamCap: Int
    /// The time ('YYYY-MM-DD HH:mm:ss').
    public var now: String

    public init(group: Int, by me: Int, _ operation: Operation, keys: RedisKeys, streamCap: Int, now: String) {
        self.group = group
        self.me = me
        self.operation = operation
        self.keys = keys
        self.streamCap = streamCap
        self.now = now
    }

    public var keyCount: Int {
        switch operation {
        case .create(_, _, _, _, let members): 5 + 3 * members.count
        case .set: 4
        case .remove(_, let avatarUsers), .decide(_, _, let avatarUsers): 5 + avatarUsers.count
        case .join(_, _, _, let avatarUsers, _): 7 + avatarUsers.count
        case .leave(let members): 5 + members.count
        }
    }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(keys.group(group))
        command.append(keys.groupMembers(group))
        command.append(keys.groupMembersVersion(group))
        command.append(keys.stream(StreamName.entities, partition: keys.layout.partition(ofGroup: group)))
        switch operation {
        case .create(_, _, _, _, let members):
            // The console's list of the groups of the group's partition.
            command.append(keys.groups(ofGroup: group))
            for member in members {
                command.append(keys.user(member))
                command.append(keys.groupsOfUser(member))
                command.append(keys.blocks(member))
            }
        case .set: break
        case .remove(let user, let avatarUsers), .decide(let user, _, let avatarUsers):
            command.append(keys.groupsOfUser(user))
            for user in avatarUsers { command.append(keys.user(user)) }
        case .join(let joiner, _, _, let avatarUsers, _):
            command.append(keys.user(joiner))
            command.append(keys.groupsOfUser(joiner))
            command.append(keys.blocks(joiner))
            for user in avatarUsers { command.append(keys.user(user)) }
        case .leave(let members):
            command.append(keys.groupHistory(group))
            for member in members { command.append(keys.groupsOfUser(member)) }
        }

        command.append(op)
        command.append(streamCap)
        command.append(now)
        command.append(me)
        switch operation {
        case .create(let uuid, let name, let avatar, let firstRowID, let members):
            command.append(group)
            command.append(uuid)
            command.append(name)
            command.append(avatar)
            command.append(firstRowID)
            for member in members { command.append(member) }
        case .set(_, let value):
            command.append(value)
        case .remove(let user, let avatarUsers):
            command.append(user)
            for user in avatarUsers { command.append(user) }
        case .join(let joiner, let inviter, let rowID, let avatarUsers, let maxMembers):
            command.append(joiner)
            command.append(String(inviter))
            command.append(rowID)
            command.append(maxMembers)
            for user in avatarUsers { command.append(user) }
        case .decide(let user, let agree, let avatarUsers):
            command.append(user)
            command.append(agree ? "agree" : "no")
            for user in avatarUsers { command.append(user) }
        case .leave(let members):
            // The uids of the group lists' keys: the script names no key itself.
            for member in members { command.append(member) }
        }
    }

    private var op: String {
        switch operation {
        case .create: "create"
        case .set(let setting, _): setting.rawValue
        case .remove: "remove"
        case .join: "join"
        case .decide: "decide"
        case .leave: "leave"
        }
    }

    /// `{'created'}`, `{result, group JSON, my row JSON or '', uids…}`,
    /// `{'stale', uid…}`, or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        return try decodeChange(&reader, reply)
    }

    /// The reply from the reader's position on (`GroupChangeStep`'s first steps reply the
    /// same after their record).
    static func decodeChange(_ reader: inout ScriptReplyReader, _ reply: RedisFlatReply) throws(RedisError) -> Reply {
        if let code = reader.errorCode {
            guard let refusal = Refusal(rawValue: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        let result = try reader.string()
        if result == "created" { return .created }
        if result == "stale" { return .needsAvatars(users: reader.remainingIntegers()) }
        guard let outcome = Outcome(rawValue: result) else { throw reader.unexpected() }
        let group = reader.nextIfAny().flatMap { position in reply.byteRange(at: position).map { Array(reply.bytes[$0]) } }
        let actor = reader.nextIfAny().flatMap { position in reply.byteRange(at: position).map { Array(reply.bytes[$0]) } }
        return .changed(Change(
            outcome: outcome, group: group, actor: actor?.isEmpty == true ? nil : actor, recipients: reader.remainingIntegers()
        ))
    }
}
