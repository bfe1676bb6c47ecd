import Model
import RedisClient

/// `lua/group_step.lua`: on a tagged layout, a membership change of a group (and an
/// operator's group status) as steps, each one run on one partition: the first in the
/// group's partition (checks, rows, a pending record of the members' list changes), one
/// `members` run per partition of those members (their group lists, an `applied` marker),
/// `finish` back in the group's partition.
public struct GroupChangeStep: ChatScript {
    public static let scriptName = "group_step"
    private static let common = ["op", "change_id"]
    private static let groupKeys = ["group", "members", "members_version", "stream", "pending", "records"]
    private static let first = common + ["stream_cap", "now", "me", "deadline"]
    public static let layouts = [
        ScriptLayout(
            operation: "create", keys: groupKeys + ["groups"],
            arguments: first + ["group_id", "uuid", "name", "avatar", "first_row_id"],
            argumentTail: ["member", "member_status", "member_blocks"]
        ),
        ScriptLayout(operation: "remove", keys: groupKeys, arguments: first + ["user"], argumentTail: ["avatar_user_id", "avatar"]),
        ScriptLayout(
            operation: "join", keys: groupKeys,
            arguments: first + ["joiner", "inviter", "row_id", "max_members", "joiner_status", "joiner_role", "joiner_blocks"],
            argumentTail: ["avatar_user_id", "avatar"]
        ),
        ScriptLayout(
            operation: "decide", keys: groupKeys, arguments: first + ["user", "decision"], argumentTail: ["avatar_user_id", "avatar"]
        ),
        ScriptLayout(operation: "leave", keys: groupKeys + ["history"], arguments: first),
        ScriptLayout(
            operation: "status", keys: ["group", "members", "stream", "pending", "records"],
            arguments: common + ["stream_cap", "now", "deadline", "status"]
        ),
        ScriptLayout(
            operation: "members", keys: ["applied"], keyTail: ["member_groups", "member_active_groups"],
            arguments: common + ["group_id"], argumentTail: ["member", "listed", "active"]
        ),
        ScriptLayout(operation: "finish", keys: ["pending", "records"], arguments: common),
    ]

    /// A member's facts read in its partition before the group's step.
    public struct Facts: Sendable, Equatable {
        public var user: Int
        /// The user row's `status` (nil: no row).
        public var status: String?
        public var role: String?
        /// Whether the user blocks the caller.
        public var blocksMe: Bool

        public init(user: Int, status: String?, role: String? = nil, blocksMe: Bool) {
            self.user = user
            self.status = status
            self.role = role
            self.blocksMe = blocksMe
        }
    }

    /// What a member's group lists become: `listed` (the gid in chat:user:{uid}:groups) and
    /// `active` (also in chat:user:{uid}:groups:active).
    public struct MemberChange: Sendable, Equatable, Hashable {
        public var user: Int
        public var listed: Bool
        public var active: Bool

        public init(user: Int, listed: Bool, active: Bool) {
            self.user = user
            self.listed = listed
            self.active = active
        }
    }

    public enum Operation: Sendable {
        /// The first steps, in the group's partition (`me`: the caller); `avatars`: the user
        /// avatars of the users the recomputation may need, read in their partitions.
        case create(uuid: String, name: String, avatar: String, firstRowID: Int, members: [Facts])
        case remove(user: Int, avatars: [Int: String])
        case join(joiner: Facts, inviter: Int64, rowID: Int, maxMembers: Int, avatars: [Int: String])
        case decide(user: Int, agree: Bool, avatars: [Int: String])
        case leave
        /// An operator's status of the group (its audit is `RecordAudit`, a step of its own).
        case status(enabled: Bool)
        /// One partition's members (every one of `changes` in `partition`).
        case members(partition: Int, changes: [MemberChange])
        case finish
    }

    public enum Reply: Sendable, Equatable {
        /// A first step: the members' changes it left for their partitions (none: no
        /// pending record), and what group_update would have replied.
        case changed(members: [MemberChange], ChangeGroup.Reply)
        /// status: the members' changes and the row's new version.
        case status(members: [MemberChange], version: Int)
        /// members, finish.
        case done
    }

    public var group: Int
    public var me: Int
    public var changeID: String
    public var operation: Operation
    public var keys: RedisKeys
    public var streamCap: Int
    /// The time ('YYYY-MM-DD HH:mm:ss').
    public var now: String
    /// When the repairer may finish the change (ms since 1970).
    public var deadline: Int64

    public init(
        group: Int, by me: Int, change changeID: String, _ operation: Operation, keys: RedisKeys, streamCap: Int, now: String,
        deadline: Int64
    ) {
        self.group = group
        self.me = me
        self.changeID = changeID
        self.operation = operation
        self.keys = keys
        self.streamCap = streamCap
        self.now = now
        self.deadline = deadline
    }

    public var keyCount: Int {
        switch operation {
        case .create: 7
        case .remove, .join, .decide: 6
        case .leave: 7
        case .status: 5
        case .members(_, let changes): 1 + 2 * changes.count
        case .finish: 2
        }
    }

    public func encode(into command: inout RedisCommandArguments) {
        let partition = keys.layout.partition(ofGroup: group)
        let pending = keys.groupPending(partition: partition)
        let records = keys.groupPendingRecords(partition: partition)
        let stream = keys.stream(StreamName.entities, partition: partition)
        switch operation {
        case .status(let enabled):
            command.append(keys.group(group))
            command.append(keys.groupMembers(group))
            command.append(stream)
            command.append(pending)
            command.append(records)
            encodeCommon("status", into: &command)
            command.append(streamCap)
            command.append(now)
            command.append(String(deadline))
            command.append(enabled ? "1" : "0")
        case .members(let memberPartition, let changes):
            command.append(keys.groupApplied(changeID, partition: memberPartition))
            for change in changes {
                command.append(keys.groupsOfUser(change.user))
                command.append(keys.activeGroupsOfUser(change.user))
            }
            encodeCommon("members", into: &command)
            command.append(group)
            for change in changes {
                command.append(change.user)
                command.append(change.listed ? "1" : "0")
                command.append(change.active ? "1" : "0")
            }
        case .finish:
            command.append(pending)
            command.append(records)
            encodeCommon("finish", into: &command)
        case .create, .remove, .join, .decide, .leave:
            command.append(keys.group(group))
            command.append(keys.groupMembers(group))
            command.append(keys.groupMembersVersion(group))
            command.append(stream)
            command.append(pending)
            command.append(records)
            encodeFirst(into: &command)
        }
    }

    private func encodeCommon(_ op: String, into command: inout RedisCommandArguments) {
        command.append(op)
        command.append(changeID)
    }

    private func encodeFirst(into command: inout RedisCommandArguments) {
        func first(_ op: String) {
            encodeCommon(op, into: &command)
            command.append(streamCap)
            command.append(now)
            command.append(me)
            command.append(String(deadline))
        }
        func avatars(_ avatars: [Int: String]) {
            for (user, avatar) in avatars.sorted(by: { $0.key < $1.key }) {
                command.append(user)
                command.append(avatar)
            }
        }
        switch operation {
        case .create(let uuid, let name, let avatar, let firstRowID, let members):
            command.append(keys.groups(ofGroup: group))
            first("create")
            command.append(group)
            command.append(uuid)
            command.append(name)
            command.append(avatar)
            command.append(firstRowID)
            for member in members {
                command.append(member.user)
                command.append(member.status ?? "")
                command.append(member.blocksMe ? "1" : "0")
            }
        case .remove(let user, let userAvatars):
            first("remove")
            command.append(user)
            avatars(userAvatars)
        case .join(let joiner, let inviter, let rowID, let maxMembers, let userAvatars):
            first("join")
            command.append(joiner.user)
            command.append(String(inviter))
            command.append(rowID)
            command.append(maxMembers)
            command.append(joiner.status ?? "")
            command.append(joiner.role ?? "")
            command.append(joiner.blocksMe ? "1" : "0")
            avatars(userAvatars)
        case .decide(let user, let agree, let userAvatars):
            first("decide")
            command.append(user)
            command.append(agree ? "agree" : "no")
            avatars(userAvatars)
        case .leave:
            command.append(keys.groupHistory(group))
            first("leave")
        case .status, .members, .finish:
            break
        }
    }

    /// `'OK'`, `{record or '', group_update's reply…}`, `{record or '', version}`, or an
    /// error code of group_update's.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if reader.errorCode != nil { return .changed(members: [], try ChangeGroup.decodeChange(&reader, reply)) }
        guard reply.kind(at: reply.root) == .array else { return .done }
        let members = try Self.members(of: try reader.bytes(), reader)
        var rest = reader
        if let position = rest.nextIfAny(), reply.kind(at: position) == .integer, let version = reply.integer(at: position) {
            return .status(members: members, version: Int(version))
        }
        return .changed(members: members, try ChangeGroup.decodeChange(&reader, reply))
    }

    /// The members' changes of a pending record, `{"group":gid,"changes":[[uid,listed,active],…]}`
    /// ('' for none).
    public static func members(ofRecord record: [UInt8]) -> [MemberChange]? {
        guard !record.isEmpty else { return [] }
        guard let object = try? JSONParser.parse(record).objectValue, case .array(let items)? = object["changes"] else {
            return nil
        }
        var changes: [MemberChange] = []
        for item in items {
            guard case .array(let fields) = item, fields.count == 3, let user = fields[0].integerValue,
                  let listed = fields[1].integerValue, let active = fields[2].integerValue else { return nil }
            changes.append(MemberChange(user: Int(user), listed: listed == 1, active: active == 1))
        }
        return changes
    }

    private static func members(of record: [UInt8], _ reader: ScriptReplyReader) throws(RedisError) -> [MemberChange] {
        guard let changes = members(ofRecord: record) else { throw reader.unexpected() }
        return changes
    }
}
