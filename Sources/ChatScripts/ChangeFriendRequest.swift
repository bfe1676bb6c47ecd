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
    public var streamCap: Int
    /// The time ('YYYY-MM-DD HH:mm:ss').
    public var now: String

    public init(_ operation: Operation, streamCap: Int, now: String) {
        self.operation = operation
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
            Self.encodeKeys(request, rows: false, into: &command)
            encodeArguments("apply", request, into: &command)
        case .auto(let request, let rows, let myNickname):
            Self.encodeKeys(request, rows: true, into: &command)
            encodeArguments("auto", request, into: &command)
            command.append(rows.mine)
            command.append(rows.theirs)
            command.append(myNickname)
        case .handle(let requestID, let me, let applicant, let status, let remark, let myNickname, let rows):
            command.append(RedisKeys.friendRequest(requestID))
            command.append(RedisKeys.pendingFriendRequestsTo(me))
            command.append(StreamName.entities)
            command.append(RedisKeys.friends(me))
            command.append(RedisKeys.friends(applicant))
            command.append(RedisKeys.quota(me))
            command.append(RedisKeys.quota(applicant))
            command.append(RedisKeys.blocks(me))
            command.append(RedisKeys.blocks(applicant))

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

    private static func encodeKeys(_ request: Request, rows: Bool, into command: inout RedisCommandArguments) {
        command.append(RedisKeys.user(request.to))
        command.append(RedisKeys.friendRequestPair(from: request.me, to: request.to))
        command.append(RedisKeys.friendRequest(request.requestID))
        command.append(RedisKeys.friendRequestsTo(request.to))
        command.append(RedisKeys.pendingFriendRequestsTo(request.to))
        command.append(StreamName.entities)
        if rows {
            command.append(RedisKeys.friends(request.me))
            command.append(RedisKeys.friends(request.to))
            command.append(RedisKeys.quota(request.me))
            command.append(RedisKeys.quota(request.to))
            command.append(RedisKeys.blocks(request.me))
        }
        command.append(RedisKeys.blocks(request.to))
        if let old = Int(request.oldRequestID) { command.append(RedisKeys.friendRequest(old)) }
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
