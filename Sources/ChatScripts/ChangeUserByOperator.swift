import Model
import RedisClient

/// `lua/admin_user_change.lua`: an operator edits, disables, enables or deletes a chat
/// user; a new password, a disable and a delete end its sessions (kicks) in the same
/// step. Entity events as `user_update`'s, the nickname index, the audit row.
public struct ChangeUserByOperator: ChatScript {
    public static let scriptName = "admin_user_change"
    private static let keys = OperatorAudit.keyNames + [
        "user", "stream", "nicknames", "token", "online", "online_token", "sockets", "nodes",
    ]
    private static let arguments = ["op"] + OperatorAudit.argumentNames + ["stream_cap", "id", "dead_after", "stream_prefix"]
    public static let layouts = [
        ScriptLayout(
            operation: "edit", keys: keys + ["new_username", "old_username", "names"],
            arguments: arguments + ["username", "changes"]
        ),
        ScriptLayout(operation: "disable", keys: keys, arguments: arguments),
        ScriptLayout(operation: "enable", keys: keys, arguments: arguments),
        ScriptLayout(operation: "delete", keys: keys, arguments: arguments),
    ]

    /// The columns an edit sets; nil leaves one as it is.
    public struct Changes: Sendable, Equatable {
        public var username: String?
        public var nickname: String?
        public var avatar: String?
        /// The new bcrypt hash: the account's sessions end.
        public var passwordHash: String?

        public init(username: String? = nil, nickname: String? = nil, avatar: String? = nil, passwordHash: String? = nil) {
            self.username = username
            self.nickname = nickname
            self.avatar = avatar
            self.passwordHash = passwordHash
        }

        /// The JSON object the script reads.
        var json: String {
            var object = JSONObject()
            if let username { object["username"] = .string(username) }
            if let nickname { object["nickname"] = .string(nickname) }
            if let avatar { object["avatar"] = .string(avatar) }
            if let passwordHash { object["password"] = .string(passwordHash) }
            return JSONSerializer.string(.object(object))
        }
    }

    public enum Operation: Sendable, Equatable {
        /// `currentUsername`: the username the caller read (its index key is released on a
        /// rename; a row with another one answers `stale`).
        case edit(currentUsername: String, Changes)
        case disable
        case enable
        /// Closes the account for good (`is_deleted` 1, `status` 0).
        case delete
    }

    public enum Reply: Sendable, Equatable {
        /// The row's new version and the kicks sent (one per live socket on a live process).
        case changed(version: Int, kicks: Int)
        case refused(Refusal)
    }

    public enum Refusal: String, Error, Sendable, Hashable {
        /// No such user, or deleted.
        case missing
        /// Edit: the new username has an account.
        case usernameTaken = "username_taken"
        /// Edit: the username is no longer the one read: read again.
        case stale
    }

    public var user: Int
    public var operation: Operation
    public var audit: OperatorAudit
    public var streamCap: Int
    public var deadAfterMilliseconds: Int64

    public init(user: Int, _ operation: Operation, audit: OperatorAudit, streamCap: Int, deadAfterMilliseconds: Int64) {
        self.user = user
        self.operation = operation
        self.audit = audit
        self.streamCap = streamCap
        self.deadAfterMilliseconds = deadAfterMilliseconds
    }

    public var keyCount: Int {
        if case .edit = operation { return 14 }
        return 11
    }

    public func encode(into command: inout RedisCommandArguments) {
        OperatorAudit.encodeKeys(into: &command)
        command.append(RedisKeys.user(user))
        command.append(StreamName.entities)
        command.append(RedisKeys.userNicknames)
        command.append(RedisKeys.userToken(user))
        command.append(RedisKeys.online(user))
        command.append(RedisKeys.onlineToken(user))
        command.append(RedisKeys.sockets(user))
        command.append(RedisKeys.nodes)
        if case .edit(let current, let changes) = operation {
            command.append(RedisKeys.userByName(changes.username ?? current))
            command.append(RedisKeys.userByName(current))
            command.append(RedisKeys.userNames)
        }

        switch operation {
        case .edit: command.append("edit")
        case .disable: command.append("disable")
        case .enable: command.append("enable")
        case .delete: command.append("delete")
        }
        audit.encodeArguments(into: &command)
        command.append(streamCap)
        command.append(user)
        command.append(Int(deadAfterMilliseconds))
        command.append(RedisKeys.nodeStreamPrefix)
        if case .edit(let current, let changes) = operation {
            command.append(current)
            command.append(changes.json)
        }
    }

    /// `{version, kicks}` or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = Refusal(rawValue: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        guard reader.count == 2 else { throw reader.unexpected() }
        return .changed(version: try reader.int(), kicks: try reader.int())
    }
}
