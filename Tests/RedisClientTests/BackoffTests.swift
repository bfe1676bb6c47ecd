import NIOCore
import RedisClient
import Testing

@Suite("reconnection backoff")
struct BackoffTests {
    @Test func backoffDoublesUpToTheMaximumWithJitter() {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1))
        for attempt in 1...40 {
            let ceiling = min(Duration.milliseconds(100) * (1 << min(attempt - 1, 30)), .seconds(1))
            let delay = backoff.delay(afterAttempt: attempt)
            #expect(delay <= ceiling && delay >= ceiling / 2, "attempt \(attempt): \(delay)")
        }
    }

    @Test func theConfigurationsRangeIsTheInitialAndMaximumDelay() {
        let backoff = Backoff(.milliseconds(10) ... .seconds(1))
        #expect(backoff == Backoff(initial: .milliseconds(10), maximum: .seconds(1)))
    }
}
