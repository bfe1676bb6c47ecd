/// How long to wait between attempts to reach a server that is down: doubling from
/// `initial` up to `maximum`, each delay drawn between half and all of that value so
/// that many processes restarted together do not retry in lockstep.
struct ReconnectBackoff: Sendable, Hashable {
    var initial: Duration = .milliseconds(200)
    var maximum: Duration = .seconds(10)

    /// The delay after the `attempt`-th consecutive failure (1 for the first).
    func delay(afterAttempt attempt: Int) -> Duration {
        let doublings = min(max(attempt - 1, 0), 30)  // 2^30 × initial exceeds any sane maximum
        let ceiling = min(initial * (1 << doublings), maximum)
        return ceiling * Double.random(in: 0.5...1.0)
    }
}
