import ArgumentParser
import ChatRuntime

/// The console's own options (`console serve`); each falls back to an environment variable.
struct ConsoleOptions: ParsableArguments {
    @Option(name: .customLong("host"), help: "Address of the console's listener; keep it private (env CONSOLE_HOST, default 127.0.0.1).")
    var host: String?

    @Option(name: .customLong("port"), help: "Port of the console's pages and JSON API (env CONSOLE_PORT, default 7003).")
    var port: String?

    @Option(name: .customLong("metrics-host"), help: "Address of the /metrics listener (env CONSOLE_METRICS_HOST, default 127.0.0.1).")
    var metricsHost: String?

    @Option(name: .customLong("metrics-port"), help: "Port of the /metrics listener; 0: none (env CONSOLE_METRICS_PORT, default 7005).")
    var metricsPort: String?

    @Option(name: .customLong("session-idle-seconds"), help: "An operator's session ends after this long without a request (env CONSOLE_SESSION_IDLE_SECONDS, default 1800).")
    var sessionIdleSeconds: String?

    @Option(name: .customLong("session-max-seconds"), help: "An operator's session ends this long after the login, however busy (env CONSOLE_SESSION_MAX_SECONDS, default 43200).")
    var sessionMaxSeconds: String?

    @Option(name: .customLong("cookie-secure"), help: "true: the session cookie is Secure, for a console behind TLS (env CONSOLE_COOKIE_SECURE, default false).")
    var cookieSecure: String?

    @Option(name: .customLong("trust-forwarded-for"), help: "true: the operator's address (audit, lockout) is the last one of X-Forwarded-For, for a console behind one proxy that appends it; never with operators reaching the console directly (env CONSOLE_TRUST_FORWARDED_FOR, default false).")
    var trustForwardedFor: String?

    @Option(name: .customLong("login-failures-per-account"), help: "Failed logins in a row that lock an operator's account; 0: no limit (env CONSOLE_LOGIN_FAILURES_PER_ACCOUNT, default 5).")
    var loginFailuresPerAccount: String?

    @Option(name: .customLong("login-failures-per-ip"), help: "Failed console logins from one client address that lock the address; 0: no limit (env CONSOLE_LOGIN_FAILURES_PER_IP, default 20).")
    var loginFailuresPerAddress: String?

    @Option(name: .customLong("login-lockout-seconds"), help: "The first lock of an account or address; each further one doubles (env CONSOLE_LOGIN_LOCKOUT_SECONDS, default 60).")
    var loginLockoutSeconds: String?

    @Option(name: .customLong("login-lockout-max-seconds"), help: "The longest lock, and how long a quiet account or address is remembered (env CONSOLE_LOGIN_LOCKOUT_MAX_SECONDS, default 3600).")
    var loginLockoutMaxSeconds: String?

    @Option(name: .customLong("bcrypt-cost"), help: "bcrypt cost of the password hashes the console writes, 4–15 (env BCRYPT_COST, default 10).")
    var bcryptCost: String?

    @Option(name: .customLong("heartbeat-ms"), help: "The bridges' heartbeat; a process silent for three is not shown as live and gets no kicks. The bridges' value (env HEARTBEAT_MS, default 5000).")
    var heartbeatMilliseconds: String?

    @Option(name: .customLong("stream-max-len"), help: "Hard cap (MAXLEN ~) of the streams the console's changes append to; the bridges' value (env STREAM_MAX_LEN, default 5000000).")
    var streamMaxLength: String?

    static let heartbeatSetting = Setting("heartbeat-ms", env: "HEARTBEAT_MS")
    static let streamMaxLengthSetting = Setting("stream-max-len", env: "STREAM_MAX_LEN")
    static let hostSetting = Setting("host", env: "CONSOLE_HOST")
    static let portSetting = Setting("port", env: "CONSOLE_PORT")
    static let metricsHostSetting = Setting("metrics-host", env: "CONSOLE_METRICS_HOST")
    static let metricsPortSetting = Setting("metrics-port", env: "CONSOLE_METRICS_PORT")
    static let sessionIdleSetting = Setting("session-idle-seconds", env: "CONSOLE_SESSION_IDLE_SECONDS")
    static let sessionMaxSetting = Setting("session-max-seconds", env: "CONSOLE_SESSION_MAX_SECONDS")
    static let cookieSecureSetting = Setting("cookie-secure", env: "CONSOLE_COOKIE_SECURE")
    static let trustForwardedForSetting = Setting("trust-forwarded-for", env: "CONSOLE_TRUST_FORWARDED_FOR")
    static let loginFailuresPerAccountSetting = Setting("login-failures-per-account", env: "CONSOLE_LOGIN_FAILURES_PER_ACCOUNT")
    static let loginFailuresPerAddressSetting = Setting("login-failures-per-ip", env: "CONSOLE_LOGIN_FAILURES_PER_IP")
    static let loginLockoutSetting = Setting("login-lockout-seconds", env: "CONSOLE_LOGIN_LOCKOUT_SECONDS")
    static let loginLockoutMaxSetting = Setting("login-lockout-max-seconds", env: "CONSOLE_LOGIN_LOCKOUT_MAX_SECONDS")
    static let bcryptCostSetting = Setting("bcrypt-cost", env: "BCRYPT_COST")

    /// `--bcrypt-cost` / `BCRYPT_COST`, 4–15: `serve` and `admin` hash alike.
    static func bcryptCost(flag: String?, environment: [String: String]) throws(ConfigurationError) -> Int {
        try bcryptCostSetting.resolve(flag: flag, environment: environment, default: ConsoleSettings().bcryptCost) {
            Int($0).flatMap { (4...15).contains($0) ? $0 : nil }
        }
    }

    func resolve(environment: [String: String]) throws(ConfigurationError) -> ConsoleSettings {
        var settings = ConsoleSettings()
        let address = { (text: String) -> String? in text.isEmpty || text.contains(where: \.isWhitespace) ? nil : text }
        settings.host = try Self.hostSetting.resolve(flag: host, environment: environment, default: settings.host, parse: address)
        settings.port = try Self.portSetting.resolve(flag: port, environment: environment, default: settings.port) {
            Int($0).flatMap { (1...65535).contains($0) ? $0 : nil }
        }
        settings.metricsHost = try Self.metricsHostSetting.resolve(
            flag: metricsHost, environment: environment, default: settings.metricsHost, parse: address
        )
        settings.metricsPort = try Self.metricsPortSetting.resolve(flag: metricsPort, environment: environment, default: settings.metricsPort) {
            Int($0).flatMap { (0...65535).contains($0) ? $0 : nil }
        }
        settings.sessionIdleSeconds = try Self.sessionIdleSetting.resolve(
            flag: sessionIdleSeconds, environment: environment, default: settings.sessionIdleSeconds
        ) { Int($0).flatMap { (60...86_400).contains($0) ? $0 : nil } }
        settings.sessionMaxSeconds = try Self.sessionMaxSetting.resolve(
            flag: sessionMaxSeconds, environment: environment, default: settings.sessionMaxSeconds
        ) { Int($0).flatMap { (60...(30 * 86_400)).contains($0) ? $0 : nil } }
        settings.cookieSecure = try Self.cookieSecureSetting.resolve(flag: cookieSecure, environment: environment, default: false) {
            ["true": true, "1": true, "false": false, "0": false][$0.lowercased()]
        }
        settings.trustForwardedFor = try Self.trustForwardedForSetting.resolve(
            flag: trustForwardedFor, environment: environment, default: false
        ) { ["true": true, "1": true, "false": false, "0": false][$0.lowercased()] }
        settings.login.accountLimit = try Self.loginFailuresPerAccountSetting.resolve(
            flag: loginFailuresPerAccount, environment: environment, default: settings.login.accountLimit
        ) { Int($0).flatMap { (0...1000).contains($0) ? $0 : nil } }
        settings.login.addressLimit = try Self.loginFailuresPerAddressSetting.resolve(
            flag: loginFailuresPerAddress, environment: environment, default: settings.login.addressLimit
        ) { Int($0).flatMap { (0...100_000).contains($0) ? $0 : nil } }
        let lockout = try Self.loginLockoutSetting.resolve(
            flag: loginLockoutSeconds, environment: environment, default: settings.login.lockoutMilliseconds / 1000
        ) { Int($0).flatMap { (1...86_400).contains($0) ? $0 : nil } }
        let maxLockout = try Self.loginLockoutMaxSetting.resolve(
            flag: loginLockoutMaxSeconds, environment: environment, default: settings.login.maxLockoutMilliseconds / 1000
        ) { Int($0).flatMap { (1...(30 * 86_400)).contains($0) ? $0 : nil } }
        guard maxLockout >= lockout else { throw Self.loginLockoutMaxSetting.fail("must be at least --login-lockout-seconds (\(lockout))") }
        settings.login.lockoutMilliseconds = lockout * 1000
        settings.login.maxLockoutMilliseconds = maxLockout * 1000
        settings.bcryptCost = try Self.bcryptCost(flag: bcryptCost, environment: environment)
        settings.heartbeatMilliseconds = try Self.heartbeatSetting.resolve(
            flag: heartbeatMilliseconds, environment: environment, default: settings.heartbeatMilliseconds
        ) { Int64($0).flatMap { (100...600_000).contains($0) ? $0 : nil } }
        settings.streamCap = try Self.streamMaxLengthSetting.resolve(
            flag: streamMaxLength, environment: environment, default: settings.streamCap
        ) { Int($0).flatMap { (1000...1_000_000_000).contains($0) ? $0 : nil } }
        return settings
    }
}
