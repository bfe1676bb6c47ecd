import NIOCore

/// Reconnection delays: doubling from the range's lower bound to its upper bound, each
/// with up to 50% jitter so that many clients do not reconnect in lockstep.
struct Backoff {
    let range: ClosedRange<TimeAmount>
    private(set) var attempt = 0

    init(_ range: ClosedRange<TimeAmount>) {
        self.range = range
    }

    mutating func nextDelay() -> TimeAmount {
        let shift = min(attempt, 30)
        attempt += 1
        let base = min(range.lowerBound.nanoseconds << shift, range.upperBound.nanoseconds)
        let jitter = Int64.random(in: 0...(base / 2))
        return .nanoseconds(base - jitter)
    }

    mutating func reset() { attempt = 0 }
}
