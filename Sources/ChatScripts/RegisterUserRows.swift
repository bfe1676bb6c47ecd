import Model
import RedisClient

/// `lua/user_register_rows.lua`: a registration's partition step on a tagged layout — the
/// `user` and `user_info` rows, the partition's indexes and the entity events (the whole
/// user row on the partition's private shard), after the claims (``ClaimUniqueName``).
/// Idempotent by the id.
public struct RegisterUserRows: ChatScript {
    public static let scriptName = "user_register_rows"
    public static let layouts = [
        ScriptLayout(
            keys: ["user", "user_info", "stream", "private", "names", "users", "nicknames", "ids"],
            arguments: ["id", "info_id", "user_row", "info_row", "stream_cap"]
        ),
    ]

    public enum Reply: Sendable, Equatable {
        /// Written now, or by an earlier run with the same row.
        case registered
        /// Another account's row is at the ids: nothing was written.
        case idTaken
    }

    public var keys: RedisKeys
    public var userID: Int
    public var infoID: Int
    /// The rows, JSON text.
    public var userRow: String
    public var infoRow: String
    public var streamCap: Int

    public init(keys: RedisKeys, userID: Int, infoID: Int, userRow: String, infoRow: String, streamCap: Int) {
        self.keys = keys
        self.userID = userID
        self.infoID = infoID
        self.userRow = userRow
        self.infoRow = infoRow
        self.streamCap = streamCap
    }

    public var keyCount: Int { 8 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(keys.user(userID))
        command.append(keys.userInfo(userID))
        command.append(keys.entities(ofUser: userID))
        command.append(keys.privateEntities(ofUser: userID))
        command.append(keys.userNames(ofUser: userID))
        command.append(keys.users(ofUser: userID))
        command.append(keys.userNicknames(ofUser: userID))
        command.append(keys.userIDsByName(ofUser: userID))
        command.append(userID)
        command.append(infoID)
        command.append(userRow)
        command.append(infoRow)
        command.append(streamCap)
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: scriptName)
        guard let code = reader.errorCode else { return .registered }
        guard code == "id_taken" else { throw reader.unexpected() }
        return .idTaken
    }
}
