import NIOCore

/// How long to wait before trying again to reach a server that is down: doubling from
/// `initial` up to `maximum`, each delay drawn between half and all of that value so
/// that many clients restarted together do not retry in lockstep.
///
/// Public because it is not Redis's alone: the persister waits with it for MariaDB too.
/// It keeps no count; the caller counts its consecutive failures.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = maximum
    }

    /// From a range such as ``RedisConfiguration/reconnectBackoff``.
    public init(_ range: ClosedRange<TimeAmount>) {
        self.init(initial: Duration(range.lowerBound), maximum: Duration(range.upperBound))
    }

    /// The delay after the `attempt`-th consecutive failure (1 for the first).
    public func delay(afterAttempt attempt: Int) -> Duration {
        let doublings = min(max(attempt - 1, 0), 30)  // 2^30 × initial exceeds any sane maximum
        let ceiling = min(initial * (1 << doublings), maximum)
        return ceiling * Double.random(in: 0.5...1.0)
    }
}

