import Model
import RedisClient

/// `lua/admin_user_change.lua`: an operator edits, disables, enables or deletes a chat
/// user; a new password, a disable and a delete end its sessions (kicks) in the same
/// step. Entity events as `user_update`'s, the nickname index, the audit row.
public struct ChangeUserByOperator: ChatScript {
    public static let scriptName = "admin_user_change"
    private static let keyNames = OperatorAudit.keyNames + [
        "user", "stream", "nicknames", "token", "online", "online_token", "sockets", "nodes",
    ]
    private static let arguments = ["op"] + OperatorAudit.argumentNames + [
        "stream_cap", "id", "dead_after", "stream_prefix", "partition_suffix", "steps",
    ]
    public static let layouts = [
        ScriptLayout(
            operation: "edit", keys: keyNames + ["new_username", "old_username", "names"],
            arguments: arguments + ["username", "changes"]
        ),
        ScriptLayout(operation: "disable", keys: keyNames, arguments: arguments),
        ScriptLayout(operation: "enable", keys: keyNames, arguments: arguments),
        ScriptLayout(operation: "delete", keys: keyNames, arguments: arguments),
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
        /// A tagged layout: changed, the audit row still to write (``RecordAudit``).
        case changedUnaudited(version: Int, kicks: Int, action: String, detail: String)
        case refused(Refusal)

        /// The row changed (audited or not yet).
        public var isChange: Bool {
            if case .refused = self { return false }
            return true
        }
    }

    public enum Refusal: String, Error, Sendable, Hashable {
        /// No such user, or deleted.
        case missing
        /// Edit: the new username has an account.
        case usernameTaken = "username_taken"
        /// Edit: the username is no longer the one read: read again.
        case stale
    }

    /// The layout's names. On a tagged one every key is the user's partition's: the claims
    /// and the audit row are steps of their own.
    public var keys: RedisKeys
    public var user: Int
    public var operation: Operation
    public var audit: OperatorAudit
    public var streamCap: Int
    public var deadAfterMilliseconds: Int64

    public init(
        keys: RedisKeys, user: Int, _ operation: Operation, audit: OperatorAudit, streamCap: Int, deadAfterMilliseconds: Int64
    ) {
        self.keys = keys
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
        let steps = keys.layout.isTagged
        if steps {
            // Not written with steps: the user's partition's shard holds their places.
            OperatorAudit.encodePlaceholders(keys.privateEntities(ofUser: user), into: &command)
        } else {
            OperatorAudit.encodeKeys(keys, into: &command)
        }
        command.append(keys.user(user))
        command.append(keys.entities(ofUser: user))
        command.append(keys.userNicknames(ofUser: user))
        command.append(keys.userToken(user))
        command.append(keys.online(user))
        command.append(keys.onlineToken(user))
        command.append(keys.sockets(user))
        command.append(keys.nodes(partition: keys.layout.partition(ofUser: user)))
        if case .edit(let current, let changes) = operation {
            if steps {
                command.append(keys.userIDsByName(ofUser: user))
                command.append(keys.userIDsByName(ofUser: user))
            } else {
                command.append(keys.userByName(changes.username ?? current))
                command.append(keys.userByName(current))
            }
            command.append(keys.userNames(ofUser: user))
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
        command.append(keys.layout.suffix(ofUser: user))
        command.append(steps ? "1" : "0")
        if case .edit(let current, let changes) = operation {
            command.append(current)
            command.append(changes.json)
        }
    }

    /// `{version, kicks}`, with steps `{version, kicks, action, detail}`, or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = Refusal(rawValue: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        guard reader.count == 2 || reader.count == 4 else { throw reader.unexpected() }
        let (version, kicks) = (try reader.int(), try reader.int())
        guard reader.count == 4 else { return .changed(version: version, kicks: kicks) }
        return .changedUnaudited(version: version, kicks: kicks, action: try reader.string(), detail: try reader.string())
    }
}
