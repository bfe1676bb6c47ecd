import ChatScripts
import Model

/// The validated settings of `console serve` (docs/operations.md, *Console*).
struct ConsoleSettings: Sendable {
    var host = "127.0.0.1"
    var port = 7003
    var metricsHost = "127.0.0.1"
    var metricsPort = 7005
    /// Sliding: every request moves the session's end this far ahead.
    var sessionIdleSeconds = 30 * 60
    /// From the login, whatever the activity.
    var sessionMaxSeconds = 12 * 3600
    var cookieSecure = false
    /// The client address is the last of `X-Forwarded-For` (behind one proxy).
    var trustForwardedFor = false
    var login = RateLimit.LoginPolicy(
        accountLimit: 5, addressLimit: 20, lockoutMilliseconds: 60_000, maxLockoutMilliseconds: 3_600_000
    )
    var bcryptCost = 10
    /// The bridges' heartbeat: three missed and a process is dead.
    var heartbeatMilliseconds: Int64 = 5000
    var streamCap = StreamName.defaultHardCap

    var deadAfterMilliseconds: Int64 { heartbeatMilliseconds * 3 }
}
