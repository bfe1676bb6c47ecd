import Foundation
import Model
import NIOPosix
import RedisClient

/// Registration and the login result of API.md ("user + token").
struct AccountService: Sendable {
    static let accountTaken = "该账号已存在，请换一个账号注册"
    static let accountUnavailable = "账号不存在或者被禁用"
    static let wrongPassword = "账户或密码错误"
    static let loginFailed = "登录失败"
    static let registrationFailed = "注册失败，请稍后再试"

    let store: AccountStore
    let hasher: PasswordHasher
    let tokens: TokenService
    let defaultAvatar: String

    /// `POST /api/regChat`: creates the account, then answers the login result.
    func register(username: String, password: String) async throws(APIFailure) -> JSONObject {
        let hash = await Self.offload { hasher.hash(password) }
        do {
            _ = try await store.register(username: username, passwordHash: hash, avatar: defaultAvatar, role: .user, now: Date())
        } catch AccountStore.RegistrationError.usernameTaken {
            throw APIFailure(Self.accountTaken)
        } catch {
            throw APIFailure(Self.registrationFailed)
        }
        // The password was just hashed: checking it again would cost a second bcrypt.
        return try await loginResult(username: username, password: nil, visitorMode: false)
    }

    /// The login result: `password` nil skips the check (visitor mode, fresh registration).
    func loginResult(username: String, password: String?, visitorMode: Bool) async throws(APIFailure) -> JSONObject {
        for _ in 0..<3 {  // a password change between check and write: read again
            let user: UserRow?
            do { user = try await store.user(named: username) } catch { throw APIFailure(Self.loginFailed) }
            guard let user, user.status == 1 else { throw APIFailure(Self.accountUnavailable) }

            var rehash: String?
            if let password {
                let stored = user.password
                switch await Self.offload({ hasher.verify(password, against: stored) }) {
                case .invalid: throw APIFailure(Self.wrongPassword)
                case .valid(let needsRehash):
                    if needsRehash { rehash = await Self.offload { hasher.hash(password) } }
                }
            }
            let role: Role = visitorMode ? .visitor : user.role
            do {
                let token = try await tokens.sign(userID: user.id, role: role)
                let row = try await store.recordLogin(
                    of: user, token: token, verifiedHash: user.password, newHash: rehash, now: Date()
                )
                var result = row.json()
                if visitorMode { result["role"] = .string(Role.visitor.rawValue) }
                result["token"] = .string(token)
                return result
            } catch AccountStore.LoginError.passwordChanged {
                continue
            } catch AccountStore.LoginError.unavailable {
                throw APIFailure(Self.accountUnavailable)
            } catch {
                throw APIFailure(Self.loginFailed)
            }
        }
        throw APIFailure(Self.loginFailed)
    }

    /// `POST /api/chat/setPassword`.
    func setPassword(userID: Int, old: String, new: String, confirmation: String) async throws(APIFailure) -> String {
        guard new == confirmation else { throw APIFailure("新密码与确认新密码不一致") }
        let gone = APIFailure("用户不存在，无法修改密码")
        let user: UserRow?
        do { user = try await store.user(id: userID) } catch { throw APIFailure("修改密码失败，请稍后再试") }
        guard let user else { throw gone }
        let stored = user.password
        guard case .valid = await Self.offload({ hasher.verify(old, against: stored) }) else {
            throw APIFailure("原始密码错误，无法修改密码")
        }
        let hash = await Self.offload { hasher.hash(new) }
        do {
            _ = try await store.update(
                user, requireActive: false, verifiedHash: stored,
                columns: [("password", hash), ("update_time", TimeFormat.rowTime(Date()))]
            )
        } catch AccountStore.LoginError.unavailable {
            throw gone
        } catch AccountStore.LoginError.passwordChanged {
            throw APIFailure("原始密码错误，无法修改密码")  // changed meanwhile by another request
        } catch {
            throw APIFailure("修改密码失败，请稍后再试")
        }
        return "修改密码成功"
    }

    /// bcrypt takes tens of milliseconds of CPU: never on the cooperative pool's few
    /// threads or an event loop, but on NIO's blocking thread pool.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        if let result = try? await NIOThreadPool.singleton.runIfActive(work) { return result }
        return work()  // the pool is shutting down: finish the request anyway
    }
}
