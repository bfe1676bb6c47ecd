import Model
import RedisClient

/// `lua/user_register.lua`: claims the username, uuid (and device) indexes and writes the
/// `user` and `user_info` rows with their entity events (the whole user row on the private
/// stream), in one step: one Redis (a tagged layout runs ``ClaimUniqueName`` and
/// ``RegisterUserRows`` as steps).
public struct RegisterUser: ChatScript {
    public static let scriptName = "user_register"
    public static let layouts = [
        ScriptLayout(
            keys: [
                "username", "uuid", "user", "user_info", "stream", "names", "private", "users", "nicknames", "audit_ids",
                "audit_list",
            ],
            keyTail: ["device"],
            arguments: ["id", "info_id", "user_row", "info_row", "stream_cap"] + OperatorAudit.argumentNames
        ),
    ]

    public enum Reply: Sendable, Equatable {
        case registered
        case refused(Refusal)
    }

    public enum Refusal: String, Sendable, Equatable {
        /// A user or user_info row exists at the new ids already (the id counter went
        /// back): nothing was written.
        case idTaken = "id_taken"
        case usernameTaken = "username_taken"
        case uuidTaken = "uuid_taken"
        case deviceTaken = "device_taken"
    }

    public var keys: RedisKeys
    public var userID: Int
    public var infoID: Int
    public var username: String
    public var uuid: String
    /// The device the account is bound to (visitors), claimed as atomically as the name.
    public var deviceID: String?
    /// The rows, JSON text.
    public var userRow: String
    public var infoRow: String
    public var streamCap: Int
    /// An operator's creation from the console (audit action `user.create`); nil for a
    /// registration.
    public var audit: OperatorAudit?

    public init(
        keys: RedisKeys, userID: Int, infoID: Int, username: String, uuid: String, deviceID: String?, userRow: String, infoRow: String,
        streamCap: Int, audit: OperatorAudit? = nil
    ) {
        self.keys = keys
        self.userID = userID
        self.infoID = infoID
        self.username = username
        self.uuid = uuid
        self.deviceID = deviceID
        self.userRow = userRow
        self.infoRow = infoRow
        self.streamCap = streamCap
        self.audit = audit
    }

    public var keyCount: Int { deviceID == nil ? 11 : 12 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(keys.userByName(username))
        command.append(keys.userByUUID(uuid))
        command.append(keys.user(userID))
        command.append(keys.userInfo(userID))
        command.append(keys.entities(ofUser: userID))
        command.append(keys.userNames(ofUser: userID))
        command.append(keys.privateEntities(ofUser: userID))
        command.append(keys.users(ofUser: userID))
        command.append(keys.userNicknames(ofUser: userID))
        command.append(RedisKeys.adminAuditIDs)
        command.append(RedisKeys.adminAudit)
        if let deviceID { command.append(keys.userByDevice(deviceID)) }

        command.append(userID)
        command.append(infoID)
        command.append(userRow)
        command.append(infoRow)
        command.append(streamCap)
        if let audit {
            audit.encodeArguments(into: &command)
        } else {
            command.append("")
            command.append("")
            command.append("")
        }
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: scriptName)
        guard let code = reader.errorCode else { return .registered }
        guard let refusal = Refusal(rawValue: code) else { throw reader.unexpected() }
        return .refused(refusal)
    }
}
