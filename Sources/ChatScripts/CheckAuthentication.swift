import Model
import RedisClient

/// `lua/auth_check.lua`: the `/api/chat` authentication's Redis reads in one command — the
/// token presented is the account's current one and the account is active — with what
/// the route needs next: the account's row, or its delivery target.
public struct CheckAuthentication: ChatScript {
    public static let scriptName = "auth_check"
    public static let layouts = [ScriptLayout(keys: ["token", "user", "online"], arguments: ["presented", "read"])]

    /// What to read besides the checks.
    public enum Read: String, Sendable {
        case nothing = ""
        case row
        case target
    }

    public enum Refusal: String, Sendable, Equatable {
        /// Not the account's current token (logged out, a newer login, none stored).
        case token
        /// No such account, or disabled.
        case unavailable
    }

    public enum Reply: Sendable, Equatable {
        /// Current and active (`target`: and without a delivery target).
        case active
        /// Current and active: the row's fields.
        case row([String: String])
        /// Current and active: its delivery target (`DeliveryTarget`'s text).
        case target(String)
        case refused(Refusal)
    }

    /// The layout's names: every key is the user's, so one partition.
    public var keys: RedisKeys
    public var userID: Int
    public var token: String
    public var read: Read

    public init(keys: RedisKeys, userID: Int, token: String, read: Read) {
        self.keys = keys
        self.userID = userID
        self.token = token
        self.read = read
    }

    public var keyCount: Int { 3 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(keys.userToken(userID))
        command.append(keys.user(userID))
        command.append(keys.online(userID))
        command.append(token)
        command.append(read.rawValue)
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard let refusal = Refusal(rawValue: code) else { throw reader.unexpected() }
            return .refused(refusal)
        }
        switch reply.kind(at: reply.root) {
        case .integer:
            guard reply.integer(at: reply.root) == 1 else { throw reader.unexpected() }
            return .active
        case .bulk:
            guard let target = reply.string(at: reply.root) else { throw reader.unexpected() }
            return .target(target)
        case .array where reader.count > 0:
            break
        default:
            throw reader.unexpected()
        }
        var row: [String: String] = [:]
        row.reserveCapacity(reader.count / 2)
        while let field = reader.nextIfAny(), let value = reader.nextIfAny() {
            if let name = reply.string(at: field), let text = reply.string(at: value) { row[name] = text }
        }
        return .row(row)
    }
}
