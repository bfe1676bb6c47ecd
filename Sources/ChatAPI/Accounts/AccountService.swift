import ChatGateway
import Foundation
import Model
import RedisClient

/// Registration and the login result of docs/api.md ("user + token").
package struct AccountService: Sendable {
    static let accountTaken = "该账号已存在，请换一个账号注册"
    static let accountUnavailable = "账号不存在或者被禁用"
    static let wrongPassword = "账户或密码错误"
    static let loginFailed = "登录失败"
    static let registrationFailed = "注册失败，请稍后再试"

    let store: AccountStore
    let hasher: PasswordHasher
    package let tokens: TokenService
    /// Ends an account's sessions on every process (logout, password, ban, kick).
    package let sessions: SessionRevoker
    let defaultAvatar: String
    /// Login lockouts, registrations per address, bcrypt's slots (docs/operations.md, *Rate limits*).
    let limits: AccountLimits

    package init(
        store: AccountStore, hasher: PasswordHasher, tokens: TokenService, sessions: SessionRevoker, defaultAvatar: String,
        limits: AccountLimits
    ) {
        self.store = store
        self.hasher = hasher
        self.tokens = tokens
        self.sessions = sessions
        self.defaultAvatar = defaultAvatar
        self.limits = limits
    }

    /// `POST /api/regChat`: creates the account, then answers the login result.
    func register(username: String, password: String, from address: ClientAddress?) async throws(APIFailure) -> JSONObject {
        try await limits.countRegistration(from: address)
        let hash = try await offload { hasher.hash(password) }
        let user: UserRow
        do {
            user = try await store.register(username: username, passwordHash: hash, avatar: defaultAvatar, role: .user, now: Date())
        } catch AccountStore.Refusal.usernameTaken {
            throw APIFailure(Self.accountTaken)
        } catch {
            throw APIFailure(Self.registrationFailed)
        }
        // The row was just written and the password just hashed: log it in as it is.
        return try await logIn(user, visitorMode: false)
    }

    /// The login result by username and password, within the login lockouts of the
    /// account and of `address`: a wrong password or an unknown or disabled account
    /// counts as a failure, a right password clears the account's.
    func loginResult(username: String, password: String, from address: ClientAddress?) async throws(APIFailure) -> JSONObject {
        let attempt = try await limits.beginLogin(username: username, from: address)
        var outcome = AccountLimits.LoginAttempt.Outcome.abandoned
        do throws(APIFailure) {
            let result = try await loginResult(username: username, password: password, outcome: &outcome)
            await attempt.settle(outcome)
            return result
        } catch {
            await attempt.settle(outcome)
            throw error
        }
    }

    private func loginResult(
        username: String, password: String, outcome: inout AccountLimits.LoginAttempt.Outcome
    ) async throws(APIFailure) -> JSONObject {
        for _ in 0..<3 {  // a password change between check and write: read again
            let user: UserRow?
            do { user = try await store.user(named: username) } catch { throw APIFailure(Self.loginFailed) }
            guard let user, user.status == 1 else {
                outcome = .failed
                throw APIFailure(Self.accountUnavailable)
            }

            var columns: [(String, String)] = []
            let stored = user.password
            switch try await offload({ hasher.verify(password, against: stored) }) {
            case .invalid:
                outcome = .failed
                throw APIFailure(Self.wrongPassword)
            case .valid(let needsRehash):
                outcome = .succeeded
                if needsRehash { columns.append(("password", try await offload { hasher.hash(password) })) }
            }
            do {
                return try await recordLogin(user, verifiedHash: user.password, columns: columns, visitorMode: false)
            } catch AccountStore.Refusal.passwordChanged {
                continue
            } catch {
                throw Self.loginFailure(error)
            }
        }
        throw APIFailure(Self.loginFailed)
    }

    /// Signs a token for an account already found (and checked), records the login with
    /// `columns` in the same write, and answers the login result.
    func logIn(
        _ user: UserRow, verifiedHash: String? = nil, columns: [(String, String)] = [], visitorMode: Bool
    ) async throws(APIFailure) -> JSONObject {
        do {
            return try await recordLogin(user, verifiedHash: verifiedHash, columns: columns, visitorMode: visitorMode)
        } catch {
            throw Self.loginFailure(error)
        }
    }

    /// The login result: every column but the password, plus the token; in visitor mode
    /// the role says `visitor`. Throws the store's refusals as they are.
    private func recordLogin(
        _ user: UserRow, verifiedHash: String?, columns: [(String, String)], visitorMode: Bool
    ) async throws -> JSONObject {
        let token = try await tokens.sign(userID: user.id, role: visitorMode ? .visitor : user.role)
        let row = try await store.recordLogin(of: user, token: token, verifiedHash: verifiedHash, columns: columns)
        var result = row.json()
        if visitorMode { result["role"] = .string(Role.visitor.rawValue) }
        result["token"] = .string(token)
        return result
    }

    private static func loginFailure(_ error: any Error) -> APIFailure {
        APIFailure(error as? AccountStore.Refusal == .unavailable ? accountUnavailable : loginFailed)
    }

    /// `POST /api/chat/setPassword`: the new password and a new token in one write (the
    /// old token fails from then on), then every live socket of the account is kicked.
    /// Returns the text and the new token (docs/api.md: the response's `token` header).
    func setPassword(userID: Int, old: String, new: String, confirmation: String) async throws(APIFailure) -> (text: String, token: String) {
        guard new == confirmation else { throw APIFailure("新密码与确认新密码不一致") }
        let gone = APIFailure("用户不存在，无法修改密码")
        let user: UserRow?
        do { user = try await store.user(id: userID) } catch { throw APIFailure("修改密码失败，请稍后再试") }
        guard let user else { throw gone }
        let stored = user.password
        guard case .valid = try await offload({ hasher.verify(old, against: stored) }) else {
            throw APIFailure("原始密码错误，无法修改密码")
        }
        let hash = try await offload { hasher.hash(new) }
        let token: String
        do {
            token = try await tokens.sign(userID: user.id, role: user.role)
            _ = try await store.update(user, requireActive: false, verifiedHash: stored, token: token, columns: [("password", hash)])
        } catch AccountStore.Refusal.unavailable {
            throw gone
        } catch AccountStore.Refusal.passwordChanged {
            throw APIFailure("原始密码错误，无法修改密码")  // changed meanwhile by another request
        } catch {
            throw APIFailure("修改密码失败，请稍后再试")
        }
        // The password is changed and the old token refused already: a failure here leaves
        // the sockets to the next heartbeat, which kicks them (their token is not current).
        _ = try? await sessions.revoke(user: user.id, keeping: token, reason: .password)
        return ("修改密码成功", token)
    }

    /// `POST /api/chat/logout`: the token fails, and every live socket of the account is
    /// kicked, on whichever process holds it.
    func logOut(userID: Int) async throws(APIFailure) {
        do {
            try await sessions.revoke(user: userID, reason: .logout)
        } catch {
            throw APIFailure("退出登录失败")
        }
    }

    // MARK: Operators (issue 19's console calls these)

    /// Disables an account (`status 0`, with its entity event) and ends its sessions at
    /// once: its tokens fail and its sockets are kicked within a second. An operator's
    /// `HSET chat:user:{id} status 0` by hand takes effect at the next heartbeat instead.
    /// Throws `AccountStore.Refusal.unavailable` for an account that does not exist.
    package func disable(userID: Int) async throws {
        try await setStatus(0, of: userID)
        try await sessions.revoke(user: userID, reason: .ban)
    }

    /// Enables a disabled account again; it logs in anew (its old tokens stay revoked).
    package func enable(userID: Int) async throws {
        try await setStatus(1, of: userID)
    }

    /// An operator's kick: the account's tokens fail and its sockets are kicked; it may
    /// log in again at once.
    package func kick(userID: Int) async throws {
        try await sessions.revoke(user: userID, reason: .kick)
    }

    private func setStatus(_ status: Int, of userID: Int) async throws {
        guard let user = try await store.user(id: userID) else { throw AccountStore.Refusal.unavailable }
        _ = try await store.update(user, requireActive: false, columns: [("status", String(status))])
    }

    /// bcrypt takes tens of milliseconds of CPU: never on the cooperative pool's few
    /// threads or an event loop, but in one of bcrypt's slots of NIO's blocking thread
    /// pool (`PasswordWork`), refused when they and their queue are full.
    func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws(APIFailure) -> T {
        try await limits.passwordWork.run(work)
    }
}
