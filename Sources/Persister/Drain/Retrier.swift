import ChatRuntime
import Logging
import RedisClient

/// The drain's one way of retrying a step that fails for a reason outside the entries
/// (Redis or MariaDB down, restarting, not migrated yet): failures counted, delays drawn
/// from one ``Backoff``, each failure logged the same way, a shutdown honoured as the
/// step says.
struct Retrier: Sendable {
    let backoff: Backoff
    let logger: Logger

    /// What a requested shutdown does to a step.
    enum WhenStopping: Sendable {
        /// Not started, and not tried again: waiting for a server is not worth delaying
        /// the stop (start-up steps).
        case abandon
        /// Work in hand (a batch read, written or acknowledged): the first attempt is
        /// made whatever happens; once stopping, no attempt after the `attempts`-th.
        case giveUp(afterAttempts: Int)

        var attemptLimit: Int {
            switch self {
            case .abandon: 0
            case .giveUp(let attempts): attempts
            }
        }
    }

    /// How often a failure that goes on is logged.
    enum LogFrequency: Sendable {
        case everyFailure
        /// The first failure and every tenth: for a step that fails for as long as a
        /// server is down, in every batch.
        case firstAndEveryTenth

        func includes(_ failure: Int) -> Bool {
            switch self {
            case .everyFailure: true
            case .firstAndEveryTenth: failure == 1 || failure % 10 == 0
            }
        }
    }

    /// A step as the log and the shutdown see it.
    struct Step: Sendable {
        /// The warning logged on a failure, with the error, the attempt and the delay.
        var failure: Logger.Message
        /// The notice logged when an attempt succeeds after failures (nil: none).
        var recovery: Logger.Message? = nil
        var metadata: Logger.Metadata = [:]
        var logs = LogFrequency.everyFailure
        var whenStopping = WhenStopping.abandon
    }

    /// Runs `operation` until it succeeds, waiting between attempts; nil when it gave up
    /// because `stopping` was set. An error that `final` maps to a failure of its own is
    /// not retried: that failure is thrown.
    func run<Value, Failure: Error>(
        _ step: Step, stopping: StopFlag, final: (any Error) -> Failure?, onFailure: () -> Void = {},
        _ operation: () async throws -> Value
    ) async throws(Failure) -> Value? {
        let limit = step.whenStopping.attemptLimit
        var failures = 0
        while true {
            if stopping.isSet && failures >= limit { return nil }
            do {
                let value = try await operation()
                if failures > 0, let recovery = step.recovery {
                    logger.notice(recovery, metadata: ["attempts": "\(failures + 1)"])
                }
                return value
            } catch {
                if let failure = final(error) { throw failure }
                failures += 1
                onFailure()
                let delay = backoff.delay(afterAttempt: failures)
                if step.logs.includes(failures) {
                    logger.warning(step.failure, metadata: step.metadata.merging([
                        "error": "\(error)", "attempt": "\(failures)", "retry_in_ms": "\(delay.milliseconds)",
                    ]) { $1 })
                }
                if stopping.isSet && failures >= limit { return nil }
                await stopping.sleep(for: delay)
            }
        }
    }

    /// Runs `operation` until it succeeds, retrying every error; nil when it gave up
    /// because `stopping` was set.
    func run<Value>(
        _ step: Step, stopping: StopFlag, onFailure: () -> Void = {}, _ operation: () async throws -> Value
    ) async -> Value? {
        await run(step, stopping: stopping, final: { _ -> Never? in nil }, onFailure: onFailure, operation)
    }
}
