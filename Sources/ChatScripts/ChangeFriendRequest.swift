import Model
import RedisClient

/// `lua/friend_request.lua`: friend requests and the friendships they create
/// (applyfriend, autoAddFriendAndAgree, handleapply), with their entity events.
public struct ChangeFriendRequest: ChatScript {
    public static let scriptName = "friend_request"
    private static let common = ["op", "stream_cap", "now"]
    private static let requestKeys = ["target", "pair", "request", "to_requests", "pending", "stream"]
    private static let requestArguments = common + ["me", "to", "request_id", "nickname", "old_request_id"]
    public static let layouts = [
        ScriptLayout(
            operation: "apply", keys: requestKeys + ["their_blocks"], keyTail: ["old_request"], arguments: requestArguments
        ),
        ScriptLayout(
            operation: "auto",
            keys: requestKeys + ["my_friends", "their_friends", "my_quota", "their_quota", "my_blocks", "their_blocks"],
            keyTail: ["old_request"], arguments: requestArguments + ["my_row_id", "their_row_id", "my_nickname"]
        ),
        ScriptLayout(
            operation: "handle",
            keys: [
                "request", "pending", "stream", "my_friends", "their_friends", "my_quota", "their_quota", "my_blocks",
                "their_blocks",
            ],
            arguments: common + ["me", "applicant", "status", "remark", "my_nickname", "my_row_id", "their_row_id"]
        ),
    ]

    /// A new request from `me` to `to`.
    public struct Request: Sendable {
        public var me: Int
        public var to: Int
        public var requestID: Int
        public var nickname: String
        /// The request id the pair key held when the caller read it ('' for none).
        public var oldRequestID: String

        public init(me: Int, to: Int, requestID: Int, nickname: String, oldRequestID: String) {
            self.me = me
            self.to = to
            self.requestID = requestID
            self.nickname = nickname
            self.oldRequestID = oldRequestID
        }
    }

    /// The ids of the two rows a friendship may create.
    public struct RowIDs: Sendable {
        public var mine: Int
        public var theirs: Int

        public init(mine: Int, theirs: Int) {
            self.mine = mine
            self.theirs = theirs
        }
    }

    public enum Operation: Sendable {
        /// A pending request.
        case apply(Request)
        /// An agreed request and both rows; `myNickname` is their remark for me.
        case auto(Request, rows: RowIDs, myNickname: String)
        /// A pending request to `me` gets `status`; `agree` creates the rows missing.
        case handle(
            requestID: Int, me: Int, applicant: Int, status: String, remark: String, myNickname: String, rows: RowIDs?
        )
    }

    /// The two rows of a friendship, JSON, after an agreement or an automatic addition.
    public struct Friendship: Sendable, Equatable {
        /// How many of the two rows this change created (0: the friendship existed).
        public var created: Int
        public var mine: [UInt8]
        public var theirs: [UInt8]

        public init(created: Int, mine: [UInt8], theirs: [UInt8]) {
            self.created = created
            self.mine = mine
            self.theirs = theirs
        }
    }

    public enum Reply: Sendable, Equatable {
        /// `apply`: the pending request.
        case requested(id: Int)
        /// `auto`, or `handle` with `agree`.
        case befriended(Friendship)
        /// `handle` with another status.
        case handled
        case refused(FriendRefusal)
    }

    public var operation: Operation
    /// The layout's names; every key is in the recipient's partition (for `auto` and
    /// `handle` both users must share it: else friend_step's steps).
    public var keys: RedisKeys
    public var streamCap: Int
    /// The time ('YYYY-MM-DD HH:mm:ss').
    public var now: String

    public init(_ operation: Operation, keys: RedisKeys, streamCap: Int, now: String) {
        self.operation = operation
        self.keys = keys
        self.streamCap = streamCap
        self.now = now
    }

    public var keyCount: Int {
        switch operation {
        case .apply(let request): 7 + (Int(request.oldRequestID) == nil ? 0 : 1)
        case .auto(let request, _, _): 12 + (Int(request.oldRequestID) == nil ? 0 : 1)
        case .handle: 9
        }
    }

    public func encode(into command: inout RedisCommandArguments) {
        switch operation {
        case .apply(let request):
            encodeKeys(request, rows: false, into: &command)
            encodeArguments("apply", request, into: &command)
        case .auto(let request, let rows, let myNickname):
            encodeKeys(request, rows: true, into: &command)
            encodeArguments("auto", request, into: &command)
            command.append(rows.mine)
            command.append(rows.theirs)
            command.append(myNickname)
        case .handle(let requestID, let me, let applicant, let status, let remark, let myNickname, let rows):
            command.append(keys.friendRequest(requestID, to: me))
            command.append(keys.pendingFriendRequestsTo(me))
            command.append(keys.stream(StreamName.entities, partition: keys.layout.partition(ofUser: me)))
            command.append(keys.friends(me))
            command.append(keys.friends(applicant))
            command.append(keys.quota(me))
            command.append(keys.quota(applicant))
            command.append(keys.blocks(me))
            command.append(keys.blocks(applicant))

            command.append("handle")
            command.append(streamCap)
            command.append(now)
            command.append(me)
            command.append(applicant)
            command.append(status)
            command.append(remark)
            command.append(myNickname)
            command.append(rows.map { String($0.mine) } ?? "")
            command.append(rows.map { String($0.theirs) } ?? "")
        }
    }

    private func encodeKeys(_ request: Request, rows: Bool, into command: inout RedisCommandArguments) {
        let to = request.to
        command.append(keys.user(to))
        command.append(keys.friendRequestPair(from: request.me, to: to))
        command.append(keys.friendRequest(request.requestID, to: to))
        command.append(keys.friendRequestsTo(to))
        command.append(keys.pendingFriendRequestsTo(to))
        command.append(keys.stream(StreamName.entities, partition: keys.layout.partition(ofUser: to)))
        if rows {
            command.append(keys.friends(request.me))
            command.append(keys.friends(to))
            command.append(keys.quota(request.me))
            command.append(keys.quota(to))
            command.append(keys.blocks(request.me))
        }
        command.append(keys.blocks(to))
        if let old = Int(request.oldRequestID) { command.append(keys.friendRequest(old, to: to)) }
    }

    private func encodeArguments(_ op: String, _ request: Request, into command: inout RedisCommandArguments) {
        command.append(op)
        command.append(streamCap)
        command.append(now)
        command.append(request.me)
        command.append(request.to)
        command.append(request.requestID)
        command.append(request.nickname)
        command.append(request.oldRequestID)
    }

    /// The new request id; `{created, my row, their row}`; `{0}`; or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = FriendRefusal(rawValue: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        if reply.kind(at: reply.root) == .integer, let id = reply.integer(at: reply.root) {
            return .requested(id: Int(id))
        }
        switch reader.count {
        case 1:
            return .handled
        case 3:
            return .befriended(Friendship(created: try reader.int(), mine: try reader.bytes(), theirs: try reader.bytes()))
        default:
            throw reader.unexpected()
        }
    }
}
