import Logging
import ServiceLifecycle
import Synchronization

/// The delivery's background work, owned by the service group so that a graceful
/// shutdown waits for it: routing again what a closed connection could not push, flushing
/// an offline queue asked for by another process or after a target was claimed again, and
/// the patience of a push held back by `DeliveryOrder`. Each job runs at once as a child
/// task of `run()`. How many run together is not bounded, as it was not before: a held
/// push's patience must not wait for a slot, and every job is a few round trips.
///
/// Graceful shutdown (after the server, the listener and the heartbeat have stopped, so
/// nothing new comes in) lets the jobs submitted so far finish, and those they submit in
/// turn, then returns. A job submitted after that is not dropped: it runs in a task of its
/// own and says so in the log; a redelivery then still reaches the offline queue, or logs
/// that it could not (Redis closed).
package final class BackgroundWork: Service, Sendable {
    package typealias Job = @Sendable () async -> Void

    private enum State {
        /// Jobs go to `run()`; `outstanding` were submitted and have not finished.
        case accepting(outstanding: Int)
        /// Shutting down: jobs are still accepted; `run()` ends once none is outstanding.
        case draining(outstanding: Int)
        /// `run()` has ended: a job runs in a task of its own, logged.
        case stopped
        /// No service group runs this work (a delivery built by a test): every job runs
        /// in a task of its own.
        case unowned
    }

    private let state: Mutex<State>
    private let jobs: AsyncStream<Job>
    private let continuation: AsyncStream<Job>.Continuation
    private let logger: Logger

    /// - Parameter owned: whether a service group runs this work (`run()`).
    package init(owned: Bool = true, logger: Logger = Logger(label: "bridge.background")) {
        (jobs, continuation) = AsyncStream.makeStream(of: Job.self)
        state = Mutex(owned ? .accepting(outstanding: 0) : .unowned)
        self.logger = logger
    }

    /// Runs `job` in the background. Never waits: event loops submit too.
    package func submit(_ job: @escaping Job) {
        let owner: State = state.withLock { state in
            switch state {
            case .accepting(let outstanding): state = .accepting(outstanding: outstanding + 1)
            case .draining(let outstanding): state = .draining(outstanding: outstanding + 1)
            case .stopped, .unowned: break
            }
            return state
        }
        switch owner {
        case .accepting, .draining:
            if case .enqueued = continuation.yield(job) { return }
            // The stream ended under us (`run()` cancelled): run it as a late job.
            finished()
            logger.warning("background job after shutdown: run on its own")
        case .stopped:
            logger.warning("background job after shutdown: run on its own")
        case .unowned:
            break
        }
        Task { await job() }
    }

    package func run() async {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await job in jobs {
                    group.addTask {
                        await job()
                        self.finished()
                    }
                }
            }
        } onGracefulShutdown: {
            let idle: Bool = self.state.withLock { state in
                guard case .accepting(let outstanding) = state else { return false }
                state = outstanding == 0 ? .stopped : .draining(outstanding: outstanding)
                return outstanding == 0
            }
            if idle { self.continuation.finish() }
        }
        state.withLock { $0 = .stopped }
        continuation.finish()
    }

    /// A job has finished; the last one of a shutdown ends `run()`.
    private func finished() {
        let last: Bool = state.withLock { state in
            switch state {
            case .accepting(let outstanding):
                state = .accepting(outstanding: outstanding - 1)
            case .draining(let outstanding) where outstanding > 1:
                state = .draining(outstanding: outstanding - 1)
            case .draining:
                state = .stopped
                return true
            case .stopped, .unowned:
                break
            }
            return false
        }
        if last { continuation.finish() }
    }
}
