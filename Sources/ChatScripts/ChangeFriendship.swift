import Model
import RedisClient

/// `lua/friend_update.lua`: changes of a friendship (setblackgoodfriend,
/// setstargoodfriend, setmeOrfriendCanSee, deletegoodfriend), with their entity events.
public struct ChangeFriendship: ChatScript {
    public static let scriptName = "friend_update"
    /// The entity of a block row (its events, its id counter `chat:id:block`).
    public static let blockEntity = "block"
    private static let keys = ["my_friends", "stream"]
    private static let arguments = ["op", "stream_cap", "now", "friend"]
    public static let layouts = [
        ScriptLayout(operation: "black", keys: keys + ["my_blocks", "block_ids"], arguments: arguments + ["me"]),
        ScriptLayout(operation: "star", keys: keys, arguments: arguments),
        ScriptLayout(operation: "see", keys: keys, arguments: arguments + ["friend_look_me", "me_look_friend"]),
        ScriptLayout(
            operation: "delete",
            keys: keys + [
                "their_friends", "my_pair", "their_pair", "their_to_requests", "their_pending", "my_to_requests",
                "my_pending", "my_blocks", "their_blocks", "block_ids",
            ],
            keyTail: ["request"], arguments: arguments + ["me", "my_request_id", "their_request_id"]
        ),
    ]

    public enum Operation: Sendable {
        /// Toggles my block of the friend and `isblack` of my row, which mirrors it
        /// (without a row: lifts my block).
        case black
        /// Toggles `ismystarfriend` of my row (not blacklisted).
        case star
        /// Sets both visibility flags (0 or 1) of my row (not blacklisted).
        case see(friendLooksAtMe: Int, iLookAtFriend: Int)
        /// Deletes both rows and both directions' requests; the request ids are those the
        /// pair keys held when the caller read them ('' for none). A blacklisted row
        /// becomes a block before it goes.
        case delete(myRequestID: String, theirRequestID: String)
    }

    public enum Reply: Sendable, Equatable {
        case changed
        case refused(FriendRefusal)
    }

    public var owner: Int
    public var friend: Int
    public var operation: Operation
    /// The layout's names: the owner's partition (`black` and `delete` take a block id
    /// from `chat:id:block`: one Redis only; on a partitioned layout friend_step's steps).
    public var keys: RedisKeys
    public var streamCap: Int
    /// The time ('YYYY-MM-DD HH:mm:ss').
    public var now: String

    public init(owner: Int, friend: Int, _ operation: Operation, keys: RedisKeys, streamCap: Int, now: String) {
        self.owner = owner
        self.friend = friend
        self.operation = operation
        self.keys = keys
        self.streamCap = streamCap
        self.now = now
    }

    public var keyCount: Int {
        if case .black = operation { return 4 }
        guard case .delete(let mine, let theirs) = operation else { return 2 }
        return 12 + (Int(mine) == nil ? 0 : 1) + (Int(theirs) == nil ? 0 : 1)
    }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(keys.friends(owner))
        command.append(keys.stream(StreamName.entities, partition: keys.layout.partition(ofUser: owner)))
        let op: String
        switch operation {
        case .black:
            op = "black"
            command.append(keys.blocks(owner))
            command.append(RedisKeys.idCounter(Self.blockEntity))
        case .star: op = "star"
        case .see: op = "see"
        case .delete(let mine, let theirs):
            op = "delete"
            command.append(keys.friends(friend))
            command.append(keys.friendRequestPair(from: owner, to: friend))
            command.append(keys.friendRequestPair(from: friend, to: owner))
            command.append(keys.friendRequestsTo(friend))
            command.append(keys.pendingFriendRequestsTo(friend))
            command.append(keys.friendRequestsTo(owner))
            command.append(keys.pendingFriendRequestsTo(owner))
            command.append(keys.blocks(owner))
            command.append(keys.blocks(friend))
            command.append(RedisKeys.idCounter(Self.blockEntity))
            if let id = Int(mine) { command.append(keys.friendRequest(id, to: friend)) }
            if let id = Int(theirs) { command.append(keys.friendRequest(id, to: owner)) }
        }

        command.append(op)
        command.append(streamCap)
        command.append(now)
        command.append(friend)
        switch operation {
        case .black:
            command.append(owner)
        case .star: break
        case .see(let friendLooksAtMe, let iLookAtFriend):
            command.append(friendLooksAtMe)
            command.append(iLookAtFriend)
        case .delete(let mine, let theirs):
            command.append(owner)
            command.append(mine)
            command.append(theirs)
        }
    }

    /// 'OK', or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: scriptName)
        guard let code = reader.errorCode else { return .changed }
        guard let refusal = FriendRefusal(rawValue: code) else { throw reader.unexpected() }
        return .refused(refusal)
    }
}
