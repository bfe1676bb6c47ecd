import ChatAPI
import ChatGateway
import ChatScripts
import Logging
import Metrics
import Model
import RedisClient

/// An operator's login with name and password (docs/console.md, *Security*): within the
/// lockouts of the name and of the client address (`lua/rate_limit.lua` on
/// `chat:limit:admin:{name}` and `chat:limit:admin:ip:{address}`), bcrypt off the event
/// loops (`PasswordWork`), then a new session.
struct LoginService: Sendable {
    static let wrongCredentials = "管理员账号或密码错误"
    static let locked = "登录失败次数过多，请稍后再试"
    /// `console_logins_total{outcome}`: `ok`, `failed` (wrong name or password), `locked`.
    static let succeeded = Counter(label: "console_logins_total", dimensions: [("outcome", "ok")])
    static let failed = Counter(label: "console_logins_total", dimensions: [("outcome", "failed")])
    static let refused = Counter(label: "console_logins_total", dimensions: [("outcome", "locked")])

    let accounts: AdminAccounts
    let sessions: SessionStore
    let scripts: RedisScripts
    /// The layout: on a tagged one the name's and the address's states are a run each.
    let keys: RedisKeys
    let policy: RateLimit.LoginPolicy
    let work: PasswordWork
    let logger: Logger

    /// The hash of a random password nobody knows, checked for unknown names so that they
    /// take as long as known ones (the time does not tell which names exist).
    let decoy: String

    // Not inlined: a Swift 6.3.1 release-build crash with typed throws in route closures (docs/architecture.md, *Modules*).
    @inline(never)
    func logIn(name: String, password: String, address: String?) async throws -> (token: String, session: AdminSession) {
        let name = String(name.prefix(64))
        // Counted as the bridge counts its clients: an IPv6 address by its /64 (one
        // subscriber holds it whole), so a guesser cannot walk its own prefix.
        let limitAddress = address.flatMap { ClientAddress(ipAddress: $0)?.description }
        guard try await step(.attempt, name: name, address: limitAddress) == .allowed else {
            Self.refused.increment()
            throw ConsoleFailure.invalid(Self.locked)
        }
        let account: AdminAccounts.Account?
        do { account = try await accounts.find(name) } catch {
            await settle(.release, name: name, address: limitAddress)
            throw ConsoleFailure.invalid(ConsoleFailure.serverFailure)
        }
        let stored = account?.passwordHash ?? decoy
        let hasher = accounts.hasher
        let verification: PasswordHasher.Verification
        do {
            verification = try await work.run { hasher.verify(password, against: stored) }
        } catch {
            await settle(.release, name: name, address: limitAddress)
            throw ConsoleFailure.invalid(error.text)
        }
        guard let account, account.enabled, case .valid = verification else {
            await settle(.fail, name: name, address: limitAddress)
            Self.failed.increment()
            throw ConsoleFailure.invalid(Self.wrongCredentials)
        }
        await settle(.success, name: name, address: limitAddress)
        Self.succeeded.increment()
        do {
            let created = try await sessions.create(admin: account.name)
            logger.info("admin logged in", metadata: ["admin": "\(account.name)", "address": "\(address ?? "-")"])
            return created
        } catch {
            throw ConsoleFailure.invalid(ConsoleFailure.serverFailure)
        }
    }

    private func step(_ step: RateLimit.LoginStep, name: String, address: String?) async throws -> RateLimit.Reply {
        do {
            return try await RateLimit.login(
                step, username: name, address: address, policy: policy, realm: .admin, separately: keys.layout.isTagged,
                on: scripts
            )
        } catch {
            logger.error("rate_limit failed", metadata: ["error": "\(error)"])
            throw ConsoleFailure.invalid(ConsoleFailure.serverFailure)
        }
    }

    /// The outcome's step; a failure of it is logged, never shown (the login is decided).
    private func settle(_ outcome: RateLimit.LoginStep, name: String, address: String?) async {
        _ = try? await step(outcome, name: name, address: address)
    }
}
