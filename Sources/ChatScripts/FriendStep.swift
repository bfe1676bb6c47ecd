import Model
import RedisClient

/// `lua/friend_step.lua`: one step of a friend operation between users of two partitions
/// (docs/architecture.md, *Redis Cluster: partitions and steps*); every step touches the
/// keys of one partition, named here from `keys`.
public struct FriendStep: ChatScript {
    public static let scriptName = "friend_step"
    private static let common = ["op", "stream_cap", "now", "operation_id"]
    private static let commitKeys = ["stream", "pending", "records", "my_friends", "my_quota", "my_blocks"]
    private static let commitArguments = common + ["me", "friend", "my_row_id", "remark", "outcome"]
    public static let layouts = [
        ScriptLayout(
            operation: "black", keys: ["stream", "my_friends", "my_blocks"], arguments: common + ["me", "friend", "block_id"]
        ),
        ScriptLayout(operation: "begin", keys: ["pending", "records"], arguments: common + ["deadline", "record"]),
        ScriptLayout(
            operation: "auto_target",
            keys: [
                "stream", "target", "pair", "request", "to_requests", "pending_requests", "their_friends", "their_quota",
                "their_blocks", "applied",
            ],
            keyTail: ["old_request"],
            arguments: common + ["me", "to", "request_id", "nickname", "old_request_id", "their_row_id", "my_nickname"]
        ),
        ScriptLayout(operation: "auto_commit", keys: commitKeys, arguments: commitArguments),
        ScriptLayout(operation: "handle_commit", keys: commitKeys + ["request", "pending_requests"], arguments: commitArguments),
        ScriptLayout(
            operation: "handle_begin", keys: ["stream", "request", "pending_requests", "pending", "records"],
            arguments: common + ["me", "applicant", "status", "deadline", "record"]
        ),
        ScriptLayout(
            operation: "handle_peer", keys: ["stream", "their_friends", "their_quota", "their_blocks", "applied"],
            arguments: common + ["me", "applicant", "their_row_id", "my_nickname"]
        ),
        ScriptLayout(
            operation: "delete_mine",
            keys: [
                "stream", "my_friends", "my_blocks", "their_pair", "my_to_requests", "my_pending_requests", "pending",
                "records",
            ],
            keyTail: ["request"], arguments: common + ["me", "friend", "their_request_id", "block_id", "deadline", "record"]
        ),
        ScriptLayout(
            operation: "delete_theirs",
            keys: ["stream", "their_friends", "their_blocks", "my_pair", "their_to_requests", "their_pending_requests", "applied"],
            keyTail: ["request"], arguments: common + ["me", "friend", "my_request_id", "block_id"]
        ),
        ScriptLayout(operation: "finish", keys: ["pending", "records"], arguments: common),
    ]

    /// A pending record: when the repairer may finish the operation (ms since 1970, the
    /// bridge's clock), and what its later steps need (JSON).
    public struct Pending: Sendable {
        public var deadline: Int64
        public var record: String

        public init(deadline: Int64, record: String) {
            self.deadline = deadline
            self.record = record
        }
    }

    public enum Operation: Sendable {
        /// setblackgoodfriend in my partition, the block id taken before.
        case black(me: Int, friend: Int, blockID: Int)
        /// The pending record of an automatic friendship (nothing else is written in my partition first).
        case begin(me: Int, Pending)
        /// autoAddFriendAndAgree in the target's partition: its checks, the agreed request, the target's row.
        case autoTarget(ChangeFriendRequest.Request, theirRowID: Int, myNickname: String)
        /// My row by the outcome of the other step (`ok` or its error code).
        case autoCommit(me: Int, friend: Int, myRowID: Int, remark: String, outcome: String)
        /// handleapply in my partition; `agree` records what is still to do.
        case handleBegin(requestID: Int, me: Int, applicant: Int, status: String, Pending?)
        /// An agreement in the applicant's partition: their block of me decides, their row.
        case handlePeer(me: Int, applicant: Int, theirRowID: Int, myNickname: String)
        /// My row, or the request pending again when the applicant's step refused.
        case handleCommit(requestID: Int, me: Int, applicant: Int, myRowID: Int, remark: String, outcome: String)
        /// deletegoodfriend in my partition: my row, their request to me (the id `their_pair` held).
        case deleteMine(me: Int, friend: Int, theirRequestID: String, blockID: Int, Pending)
        /// deletegoodfriend in the friend's partition: their row, my request to them.
        case deleteTheirs(me: Int, friend: Int, myRequestID: String, blockID: Int)
        /// The operation is done: its pending record goes.
        case finish(me: Int)
    }

    public enum Reply: Sendable, Equatable {
        case done
        /// A row of the friendship: created by this step (1) or there before (0), its JSON.
        case row(created: Int, json: [UInt8])
        case refused(FriendRefusal)
    }

    public var operation: Operation
    /// The operation's id ('' for `black`).
    public var operationID: String
    public var keys: RedisKeys
    public var streamCap: Int
    /// The time ('YYYY-MM-DD HH:mm:ss').
    public var now: String

    public init(_ operation: Operation, operationID: String, keys: RedisKeys, streamCap: Int, now: String) {
        self.operation = operation
        self.operationID = operationID
        self.keys = keys
        self.streamCap = streamCap
        self.now = now
    }

    /// The partition this step runs in.
    public var partition: Int {
        let user: Int
        switch operation {
        case .black(let me, _, _), .begin(let me, _), .autoCommit(let me, _, _, _, _), .handleBegin(_, let me, _, _, _),
            .handleCommit(_, let me, _, _, _, _), .deleteMine(let me, _, _, _, _), .finish(let me):
            user = me
        case .autoTarget(let request, _, _): user = request.to
        case .handlePeer(_, let applicant, _, _): user = applicant
        case .deleteTheirs(_, let friend, _, _): user = friend
        }
        return keys.layout.partition(ofUser: user)
    }

    public var keyCount: Int {
        switch operation {
        case .black: 3
        case .begin, .finish: 2
        case .autoTarget(let request, _, _): 10 + (Int(request.oldRequestID) == nil ? 0 : 1)
        case .autoCommit: 6
        case .handleCommit: 8
        case .handleBegin: 5
        case .handlePeer: 5
        case .deleteMine(_, _, let theirs, _, _): 8 + (Int(theirs) == nil ? 0 : 1)
        case .deleteTheirs(_, _, let mine, _): 7 + (Int(mine) == nil ? 0 : 1)
        }
    }

    public func encode(into command: inout RedisCommandArguments) {
        let partition = partition
        let stream = keys.stream(StreamName.entities, partition: partition)
        let pending = keys.socialPending(partition: partition)
        let records = keys.socialPendingRecords(partition: partition)
        let applied = keys.socialApplied(operationID, partition: partition)
        switch operation {
        case .black(let me, let friend, let blockID):
            command.append(stream)
            command.append(keys.friends(me))
            command.append(keys.blocks(me))
            encodeCommon("black", into: &command)
            command.append(me)
            command.append(friend)
            command.append(blockID)
        case .begin(_, let record):
            command.append(pending)
            command.append(records)
            encodeCommon("begin", into: &command)
            command.append(String(record.deadline))
            command.append(record.record)
        case .autoTarget(let request, let theirRowID, let myNickname):
            let to = request.to
            command.append(stream)
            command.append(keys.user(to))
            command.append(keys.friendRequestPair(from: request.me, to: to))
            command.append(keys.friendRequest(request.requestID, to: to))
            command.append(keys.friendRequestsTo(to))
            command.append(keys.pendingFriendRequestsTo(to))
            command.append(keys.friends(to))
            command.append(keys.quota(to))
            command.append(keys.blocks(to))
            command.append(applied)
            if let old = Int(request.oldRequestID) { command.append(keys.friendRequest(old, to: to)) }
            encodeCommon("auto_target", into: &command)
            command.append(request.me)
            command.append(to)
            command.append(request.requestID)
            command.append(request.nickname)
            command.append(request.oldRequestID)
            command.append(theirRowID)
            command.append(myNickname)
        case .autoCommit(let me, let friend, let myRowID, let remark, let outcome):
            encodeCommit("auto_commit", me: me, friend: friend, myRowID: myRowID, remark: remark, outcome: outcome, into: &command)
        case .handleCommit(let requestID, let me, let applicant, let myRowID, let remark, let outcome):
            encodeCommit(
                "handle_commit", me: me, friend: applicant, myRowID: myRowID, remark: remark, outcome: outcome, into: &command,
                request: (keys.friendRequest(requestID, to: me), keys.pendingFriendRequestsTo(me))
            )
        case .handleBegin(let requestID, let me, let applicant, let status, let record):
            command.append(stream)
            command.append(keys.friendRequest(requestID, to: me))
            command.append(keys.pendingFriendRequestsTo(me))
            command.append(pending)
            command.append(records)
            encodeCommon("handle_begin", into: &command)
            command.append(me)
            command.append(applicant)
            command.append(status)
            command.append(record.map { String($0.deadline) } ?? "")
            command.append(record?.record ?? "")
        case .handlePeer(let me, let applicant, let theirRowID, let myNickname):
            command.append(stream)
            command.append(keys.friends(applicant))
            command.append(keys.quota(applicant))
            command.append(keys.blocks(applicant))
            command.append(applied)
            encodeCommon("handle_peer", into: &command)
            command.append(me)
            command.append(applicant)
            command.append(theirRowID)
            command.append(myNickname)
        case .deleteMine(let me, let friend, let theirs, let blockID, let record):
            command.append(stream)
            command.append(keys.friends(me))
            command.append(keys.blocks(me))
            command.append(keys.friendRequestPair(from: friend, to: me))
            command.append(keys.friendRequestsTo(me))
            command.append(keys.pendingFriendRequestsTo(me))
            command.append(pending)
            command.append(records)
            if let id = Int(theirs) { command.append(keys.friendRequest(id, to: me)) }
            encodeCommon("delete_mine", into: &command)
            command.append(me)
            command.append(friend)
            command.append(theirs)
            command.append(blockID)
            command.append(String(record.deadline))
            command.append(record.record)
        case .deleteTheirs(let me, let friend, let mine, let blockID):
            command.append(stream)
            command.append(keys.friends(friend))
            command.append(keys.blocks(friend))
            command.append(keys.friendRequestPair(from: me, to: friend))
            command.append(keys.friendRequestsTo(friend))
            command.append(keys.pendingFriendRequestsTo(friend))
            command.append(applied)
            if let id = Int(mine) { command.append(keys.friendRequest(id, to: friend)) }
            encodeCommon("delete_theirs", into: &command)
            command.append(me)
            command.append(friend)
            command.append(mine)
            command.append(blockID)
        case .finish:
            command.append(pending)
            command.append(records)
            encodeCommon("finish", into: &command)
        }
    }

    private func encodeCommon(_ op: String, into command: inout RedisCommandArguments) {
        command.append(op)
        command.append(streamCap)
        command.append(now)
        command.append(operationID)
    }

    private func encodeCommit(
        _ op: String, me: Int, friend: Int, myRowID: Int, remark: String, outcome: String, into command: inout RedisCommandArguments,
        request: (key: String, pending: String)? = nil
    ) {
        let partition = partition
        command.append(keys.stream(StreamName.entities, partition: partition))
        command.append(keys.socialPending(partition: partition))
        command.append(keys.socialPendingRecords(partition: partition))
        command.append(keys.friends(me))
        command.append(keys.quota(me))
        command.append(keys.blocks(me))
        if let request {
            command.append(request.key)
            command.append(request.pending)
        }
        encodeCommon(op, into: &command)
        command.append(me)
        command.append(friend)
        command.append(myRowID)
        command.append(remark)
        command.append(outcome)
    }

    /// 'OK', `{0}`, `{created, row}`, or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = FriendRefusal(rawValue: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        switch reader.count {
        case 0, 1: return .done
        case 2: return .row(created: try reader.int(), json: try reader.bytes())
        default: throw reader.unexpected()
        }
    }
}
