import Model
import RedisClient

/// `lua/admin_account.lua`: an operators' console account created, its password reset,
/// disabled or enabled (from the command line), with its `admin` entity event on the
/// private stream and the audit row. One run on every layout: on a tagged one the
/// accounts are in the audit's slot (``RedisKeys/admin(_:)``).
public struct ChangeAdminAccount: ChatScript {
    public static let scriptName = "admin_account"
    public static let layouts = [
        ScriptLayout(
            keys: OperatorAudit.keyNames + ["account", "admins", "admin_ids"],
            arguments: OperatorAudit.argumentNames + ["stream_cap", "name", "password", "status"]
        ),
    ]

    public enum Outcome: String, Sendable, Equatable {
        case created, reset, disabled, enabled
    }

    public enum Reply: Sendable, Equatable {
        /// What happened, and the account's id.
        case changed(Outcome, id: Int)
        case refused(Refusal)
    }

    public enum Refusal: String, Error, Sendable, Hashable {
        /// No such account (and no password to create it with).
        case missing
        /// A name is 1 to 64 letters, digits, `_`, `.`, `-`, and not `audit`.
        case badName = "bad_name"
    }

    /// The layout's names.
    public var keys: RedisKeys
    public var name: String
    /// The new bcrypt hash; nil keeps it (an account is created only with one).
    public var passwordHash: String?
    /// Enabled or disabled; nil keeps it (a new account is enabled).
    public var enabled: Bool?
    public var audit: OperatorAudit
    public var streamCap: Int

    public init(keys: RedisKeys, name: String, passwordHash: String?, enabled: Bool?, audit: OperatorAudit, streamCap: Int) {
        self.keys = keys
        self.name = name
        self.passwordHash = passwordHash
        self.enabled = enabled
        self.audit = audit
        self.streamCap = streamCap
    }

    public var keyCount: Int { 6 }

    public func encode(into command: inout RedisCommandArguments) {
        OperatorAudit.encodeKeys(keys, into: &command)
        command.append(keys.admin(name))
        command.append(keys.admins)
        command.append(keys.adminIDs)
        audit.encodeArguments(into: &command)
        command.append(streamCap)
        command.append(name)
        command.append(passwordHash ?? "")
        command.append(enabled.map { $0 ? "1" : "0" } ?? "")
    }

    /// `{result, id}` or an error code.
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = Refusal(rawValue: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        guard reader.count == 2, let outcome = Outcome(rawValue: try reader.string()) else { throw reader.unexpected() }
        return .changed(outcome, id: try reader.int())
    }
}
