import ChatGateway
import ChatScripts
import Hummingbird
import Logging
import Metrics
import Model
import RedisClient

/// The rate limits of the public account endpoints (docs/operations.md, *Rate limits*),
/// in Redis through `lua/rate_limit.lua`, so shared by every bridge process: login
/// lockouts per account and per client address, registrations and visitor calls per
/// address (and per device), and where bcrypt may run.
package struct AccountLimits: Sendable {
    static let loginLocked = "登录失败次数过多，请稍后再试"
    static let tooManyRegistrations = "注册过于频繁，请稍后再试"
    /// The per-device text of the visitor endpoints, which deployed clients know; the
    /// per-address limit has the same one-hour window.
    static let tooManyVisitorCalls = "请求过于频繁，请1个小时后再试"
    static let checkFailed = "登录失败"

    /// The settings (`--login-*`, `--registrations-per-ip`, `--visitor-calls-per-ip`,
    /// `--trust-forwarded-for`, `--bcrypt-*`).
    package struct Policy: Sendable, Equatable {
        package var loginFailuresPerAccount = 5
        package var loginFailuresPerAddress = 50
        package var lockout: Duration = .seconds(60)
        package var maxLockout: Duration = .seconds(3600)
        package var registrationsPerAddress = 20
        package var visitorCallsPerAddress = 100
        package var visitorCallsPerDevice = 5
        package var trustForwardedFor = false
        package var bcryptConcurrency = PasswordWork.defaultConcurrency
        package var bcryptQueue = 32

        package init() {}

        var login: RateLimit.LoginPolicy {
            RateLimit.LoginPolicy(
                accountLimit: loginFailuresPerAccount, addressLimit: loginFailuresPerAddress,
                lockoutMilliseconds: Self.milliseconds(lockout), maxLockoutMilliseconds: Self.milliseconds(maxLockout)
            )
        }

        private static func milliseconds(_ duration: Duration) -> Int {
            Int(duration.components.seconds) * 1000 + Int(duration.components.attoseconds / 1_000_000_000_000_000)
        }
    }

    /// The counters' window: an hour, the visitor endpoints' since the old server.
    static let windowSeconds = 3600

    /// `chat_rate_limit_refusals_total{limit}` and `chat_login_lockouts_total{subject}`.
    enum Metric {
        static let loginAccount = Counter(label: "chat_rate_limit_refusals_total", dimensions: [("limit", "login_account")])
        static let loginAddress = Counter(label: "chat_rate_limit_refusals_total", dimensions: [("limit", "login_ip")])
        static let registrations = Counter(label: "chat_rate_limit_refusals_total", dimensions: [("limit", "registrations_ip")])
        static let visitorAddress = Counter(label: "chat_rate_limit_refusals_total", dimensions: [("limit", "visitor_ip")])
        static let visitorDevice = Counter(label: "chat_rate_limit_refusals_total", dimensions: [("limit", "visitor_device")])
        static let accountLocks = Counter(label: "chat_login_lockouts_total", dimensions: [("subject", "account")])
        static let addressLocks = Counter(label: "chat_login_lockouts_total", dimensions: [("subject", "ip")])
    }

    let scripts: RedisScripts
    /// The layout: on a tagged one a login's two subjects are counted in a run each.
    let keys: RedisKeys
    let policy: Policy
    let passwordWork: PasswordWork
    let logger = Logger(label: "bridge.limits")

    package init(scripts: RedisScripts, keys: RedisKeys, policy: Policy = Policy()) {
        self.scripts = scripts
        self.keys = keys
        self.policy = policy
        passwordWork = PasswordWork(concurrency: policy.bcryptConcurrency, queue: policy.bcryptQueue)
    }

    func address(of request: Request, context: BridgeRequestContext) -> ClientAddress? {
        ClientAddress.of(request, context: context, trustForwardedFor: policy.trustForwardedFor)
    }

    /// A registration from `address` (`regChat`), before its password is hashed.
    func countRegistration(from address: ClientAddress?) async throws(APIFailure) {
        guard let address, policy.registrationsPerAddress > 0 else { return }
        try await count(.registrationAddress(address.description), limit: policy.registrationsPerAddress,
                        refusal: Self.tooManyRegistrations, metric: Metric.registrations)
    }

    /// A call of the visitor endpoints: per device, then per address.
    func countVisitorCall(device: String, from address: ClientAddress?) async throws(APIFailure) {
        try await count(.visitorDevice(device), limit: policy.visitorCallsPerDevice,
                        refusal: Self.tooManyVisitorCalls, metric: Metric.visitorDevice)
        guard let address, policy.visitorCallsPerAddress > 0 else { return }
        try await count(.visitorAddress(address.description), limit: policy.visitorCallsPerAddress,
                        refusal: Self.tooManyVisitorCalls, metric: Metric.visitorAddress)
    }

    private func count(_ counter: RateLimit.Counter, limit: Int, refusal: String, metric: Counter) async throws(APIFailure) {
        let reply: RateLimit.Reply
        do {
            reply = try await scripts.run(RateLimit(.count(counter, windowSeconds: Self.windowSeconds, limit: limit)))
        } catch {
            throw APIFailure(Self.checkFailed)
        }
        guard reply == .allowed else {
            metric.increment()
            throw APIFailure(refusal)
        }
    }

    /// A login with a password of `username` from `address`: refused while the account or
    /// the address is locked; else counted as pending until settled.
    func beginLogin(username: String, from address: ClientAddress?) async throws(APIFailure) -> LoginAttempt {
        let attempt = LoginAttempt(limits: self, username: username, address: address?.description)
        guard policy.loginFailuresPerAccount > 0 || (address != nil && policy.loginFailuresPerAddress > 0) else {
            return attempt
        }
        let reply: RateLimit.Reply
        do {
            reply = try await attempt.run(.attempt)
        } catch {
            throw APIFailure(Self.checkFailed)
        }
        if case .locked(let account, _) = reply {
            (account ? Metric.loginAccount : Metric.loginAddress).increment()
            throw APIFailure(Self.loginLocked)
        }
        return attempt
    }

    /// One login attempt counted by `beginLogin`, to settle once its outcome is known.
    struct LoginAttempt: Sendable {
        enum Outcome {
            /// A wrong password, or an account that does not exist or is disabled.
            case failed
            case succeeded
            /// The password was not checked after all.
            case abandoned
        }

        let limits: AccountLimits
        let username: String
        let address: String?

        func run(_ step: RateLimit.LoginStep) async throws(RedisError) -> RateLimit.Reply {
            try await RateLimit.login(
                step, username: username, address: address, policy: limits.policy.login,
                separately: limits.keys.layout.isTagged, on: limits.scripts
            )
        }

        /// Never fails the request: a state not settled expires on its own (`max_lockout`).
        func settle(_ outcome: Outcome) async {
            let policy = limits.policy
            guard policy.loginFailuresPerAccount > 0 || (address != nil && policy.loginFailuresPerAddress > 0) else { return }
            let step: RateLimit.LoginStep = switch outcome {
            case .failed: .fail
            case .succeeded: .success
            case .abandoned: .release
            }
            do {
                if case .locked(let account, let address) = try await run(step) {
                    if account { Metric.accountLocks.increment() }
                    if address { Metric.addressLocks.increment() }
                }
            } catch {
                limits.logger.warning("a login attempt was not settled", metadata: ["error": "\(error)"])
            }
        }
    }
}
