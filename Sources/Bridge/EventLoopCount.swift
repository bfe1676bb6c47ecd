import RedisClient

/// How many event loop threads serve the bridge's sockets and its Redis connections
/// (`--event-loops`).
enum EventLoopCount {
    /// All cores, less one when Redis runs on this machine (a loopback or unix-socket
    /// address). Redis runs every script on one thread; a bridge loop competing with it
    /// for a core costs more than it adds. Measured on 2 cores (docs/benchmarks.md,
    /// *Single chat*): one loop instead of two, the same WebSocket throughput, p99 at half of it
    /// 9 ms instead of 17–30 ms (no hops between loops, fewer threads waiting for a core).
    static func `default`(redis endpoint: RedisConfiguration.Endpoint, cores: Int) -> Int {
        isOnThisMachine(endpoint) ? max(1, cores - 1) : max(1, cores)
    }

    static func isOnThisMachine(_ endpoint: RedisConfiguration.Endpoint) -> Bool {
        switch endpoint {
        case .unixSocket: true
        case .tcp(let host, _): host == "localhost" || host.hasPrefix("127.") || host == "::1"
        }
    }
}
