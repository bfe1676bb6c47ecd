import Model
import RedisClient

/// `lua/rate_limit.lua`: the rate limits of the public account endpoints
/// (docs/operations.md, *Rate limits*): calls counted in a window, and the login
/// lockouts of an account and of a client address.
public struct RateLimit: ChatScript {
    public static let scriptName = "rate_limit"
    private static let loginKeys = ["account", "address"]
    private static let loginArguments = ["op", "account_limit", "address_limit", "lockout", "max_lockout"]
    public static let layouts = [
        ScriptLayout(operation: "count", keys: ["counter"], arguments: ["op", "window", "limit"]),
    ] + LoginStep.allCases.map { ScriptLayout(operation: $0.rawValue, keys: loginKeys, arguments: loginArguments) }

    /// What a `count` counts.
    public enum Counter: Sendable, Equatable {
        /// Visitor calls of one device (*compat* key).
        case visitorDevice(String)
        /// Visitor calls from one client address.
        case visitorAddress(String)
        /// Registrations from one client address.
        case registrationAddress(String)

        var key: String {
            switch self {
            case .visitorDevice(let device): RedisKeys.visitorCalls(device)
            case .visitorAddress(let address): RedisKeys.visitorCallsFrom(address)
            case .registrationAddress(let address): RedisKeys.registrationsFrom(address)
            }
        }
    }

    /// The steps of one login with a password: `attempt` before the check, then one of
    /// the others once its outcome is known.
    public enum LoginStep: String, Sendable, CaseIterable {
        case attempt, fail, success
        /// The password was not checked after all (no bcrypt slot, a failure of the server).
        case release
    }

    public struct LoginPolicy: Sendable, Equatable {
        /// Failures in a row that lock an account (0: no limit).
        public var accountLimit: Int
        /// Failures from one address that lock it (0: no limit).
        public var addressLimit: Int
        /// The first lock; each further lock of the same subject doubles it, up to `maxLockout`.
        public var lockoutMilliseconds: Int
        public var maxLockoutMilliseconds: Int

        public init(accountLimit: Int, addressLimit: Int, lockoutMilliseconds: Int, maxLockoutMilliseconds: Int) {
            self.accountLimit = accountLimit
            self.addressLimit = addressLimit
            self.lockoutMilliseconds = lockoutMilliseconds
            self.maxLockoutMilliseconds = maxLockoutMilliseconds
        }
    }

    /// Whose logins: the chat users' or the console's operators' (the same contract on
    /// keys of their own, so that neither locks the other out).
    public enum LoginRealm: Sendable, Equatable {
        case chat, admin

        func accountKey(_ name: String) -> String {
            self == .chat ? RedisKeys.loginFailures(name) : RedisKeys.adminLoginFailures(name)
        }

        func addressKey(_ address: String) -> String {
            self == .chat ? RedisKeys.loginFailuresFrom(address) : RedisKeys.adminLoginFailuresFrom(address)
        }
    }

    /// Whose state a login's run reads and writes: both (one Redis: one run), or one of
    /// them (a tagged layout: each subject's key is on its own slot, one run each:
    /// ``login(_:username:address:policy:realm:separately:on:)``).
    public enum LoginSubjects: Sendable, Equatable {
        case both, account, address
    }

    public enum Operation: Sendable, Equatable {
        case count(Counter, windowSeconds: Int, limit: Int)
        /// `address` nil: the address is not known, only the account is counted.
        case login(
            LoginStep, username: String, address: String?, policy: LoginPolicy, realm: LoginRealm = .chat,
            subjects: LoginSubjects = .both
        )
    }

    public enum Reply: Sendable, Equatable {
        /// `count`, `attempt`: allowed; the other steps: done, nothing locked.
        case allowed
        /// `count`: one call too many (not counted).
        case tooMany
        /// `attempt`: refused by these subjects' locks; `fail`: the locks this failure set.
        case locked(account: Bool, address: Bool)
    }

    public var operation: Operation

    public init(_ operation: Operation) {
        self.operation = operation
    }

    public var keyCount: Int {
        if case .count = operation { return 1 }
        return 2
    }

    public func encode(into command: inout RedisCommandArguments) {
        switch operation {
        case .count(let counter, let window, let limit):
            command.append(counter.key)
            command.append("count")
            command.append(window)
            command.append(limit)
        case .login(let step, let username, let address, let policy, let realm, let subjects):
            // A subject not counted (its limit 0) is never touched: its place holds the
            // other's key, so that the run stays on one slot.
            let accountKey = realm.accountKey(username)
            let addressKey = realm.addressKey(address ?? "-")
            command.append(subjects == .address ? addressKey : accountKey)
            command.append(subjects == .account ? accountKey : addressKey)
            command.append(step.rawValue)
            command.append(subjects == .address ? 0 : policy.accountLimit)
            command.append(address == nil || subjects == .account ? 0 : policy.addressLimit)
            command.append(policy.lockoutMilliseconds)
            command.append(policy.maxLockoutMilliseconds)
        }
    }

    /// 0 allowed, -1 one too many (`count`), else a bit per subject (1 the account, 2 the address).
    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        let reader = ScriptReplyReader(reply, script: scriptName)
        guard reader.errorCode == nil, let value = reply.integer(at: reply.root), (-1...3).contains(value) else {
            throw reader.unexpected()
        }
        switch value {
        case 0: return .allowed
        case -1: return .tooMany
        default: return .locked(account: value & 1 != 0, address: value & 2 != 0)
        }
    }
}
