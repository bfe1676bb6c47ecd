import Model
import RedisClient

/// `lua/user_update.lua`: changes columns of a user row (a login, a password, a profile,
/// a visitor becoming a user) with its entity events (the whole row on the private
/// stream), checks first.
public struct UpdateUser: ChatScript {
    public static let scriptName = "user_update"
    public static let layouts = [
        ScriptLayout(
            keys: ["user", "stream", "token", "names", "private", "nicknames"], keyTail: ["rename"],
            arguments: ["stream_cap", "require_active", "password", "token", "username", "claims"],
            argumentTail: ["column", "value"]
        ),
    ]

    public enum Reply: Sendable, Equatable {
        /// The row after the change, as field/value pairs.
        case updated([String: String])
        case refused(Refusal)
    }

    public enum Refusal: String, Sendable, Equatable {
        /// Disabled or gone (or, when a disabled account is allowed, gone).
        case unavailable
        /// The password hash is no longer the one verified.
        case passwordChanged = "password_changed"
        case usernameTaken = "username_taken"
    }

    /// The layout's names: the user's partition; on one Redis a rename also claims here.
    public var keys: RedisKeys
    public var userID: Int
    /// The username the caller read (released when `newUsername` is claimed).
    public var username: String
    public var streamCap: Int
    /// Requires an active account (status 1); else only that it exists.
    public var requireActive: Bool
    /// The change applies only if the password hash is still this one.
    public var verifiedHash: String?
    /// Stored as the account's only valid token.
    public var token: String?
    public var newUsername: String?
    public var columns: [(String, String)]

    public init(
        keys: RedisKeys, userID: Int, username: String, streamCap: Int, requireActive: Bool, verifiedHash: String?, token: String?,
        newUsername: String?, columns: [(String, String)]
    ) {
        self.keys = keys
        self.userID = userID
        self.username = username
        self.streamCap = streamCap
        self.requireActive = requireActive
        self.verifiedHash = verifiedHash
        self.token = token
        self.newUsername = newUsername
        self.columns = columns
    }

    /// On one Redis a rename claims the new name in this run; on a tagged layout the
    /// claims are steps of their own (``ClaimUniqueName``), so every key is the user's.
    private var claimsHere: Bool { newUsername != nil && !keys.layout.isTagged }

    public var keyCount: Int { newUsername == nil ? 6 : claimsHere ? 8 : 7 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(keys.user(userID))
        command.append(keys.entities(ofUser: userID))
        command.append(keys.userToken(userID))
        command.append(keys.userNames(ofUser: userID))
        command.append(keys.privateEntities(ofUser: userID))
        command.append(keys.userNicknames(ofUser: userID))
        if claimsHere, let newUsername {
            command.append(keys.userByName(newUsername))
            command.append(keys.userByName(username))
        } else if newUsername != nil {
            command.append(keys.userIDsByName(ofUser: userID))
        }

        command.append(streamCap)
        command.append(requireActive ? "1" : "0")
        command.append(verifiedHash ?? "")
        command.append(token ?? "")
        command.append(newUsername ?? "")
        command.append(claimsHere ? "1" : "0")
        for (column, value) in columns {
            command.append(column)
            command.append(value)
        }
    }

    /// The row as a flat field/value array, or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = Refusal(rawValue: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        var row: [String: String] = [:]
        while let field = reader.nextIfAny(), let value = reader.nextIfAny() {
            if let name = reply.string(at: field), let text = reply.string(at: value) { row[name] = text }
        }
        return .updated(row)
    }
}
