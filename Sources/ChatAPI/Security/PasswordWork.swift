import ChatGateway
import Metrics
import NIOCore
import NIOPosix
import Synchronization

/// Where bcrypt runs (docs/operations.md, *Rate limits*): on NIO's blocking thread pool,
/// the one file serving and uploads use too, but never on more than `concurrency` of its
/// threads at once, so that a flood of logins leaves the files threads of their own; at
/// most `queue` more hashes wait for a slot, in arrival order, and one more is refused at
/// once (`fail('服务器繁忙，请稍后再试')`) instead of piling up requests.
package final class PasswordWork: Sendable {
    package static let busy = "服务器繁忙，请稍后再试"
    /// `chat_bcrypt_refused_total`, `chat_bcrypt_waiting`.
    static let refusals = Counter(label: "chat_bcrypt_refused_total")
    static let waitingGauge = Gauge(label: "chat_bcrypt_waiting")

    let concurrency: Int
    let queue: Int

    private struct State {
        var running = 0
        /// Resumed with a slot handed over, in arrival order.
        var waiting: [CheckedContinuation<Bool, Never>] = []
    }

    private let state = Mutex(State())

    /// - Parameters: concurrency, queue: see `--bcrypt-concurrency`, `--bcrypt-queue`.
    package init(concurrency: Int = PasswordWork.defaultConcurrency, queue: Int = 32) {
        precondition(concurrency > 0 && queue >= 0)
        self.concurrency = concurrency
        self.queue = queue
    }

    /// Half the cores: NIO's blocking pool has one thread per core.
    package static var defaultConcurrency: Int { max(1, System.coreCount / 2) }

    /// Runs `work` (a bcrypt hash or check) when a slot is free; refuses when the slots
    /// and the queue are full.
    package func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws(APIFailure) -> T {
        // true: a slot (free, or handed over by `release`); false: refused.
        let admitted = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let (answer, waiting) = state.withLock { state -> (Bool?, Int) in
                if state.running < concurrency {
                    state.running += 1
                    return (true, state.waiting.count)
                }
                guard state.waiting.count < queue else { return (false, state.waiting.count) }
                state.waiting.append(continuation)
                return (nil, state.waiting.count)
            }
            Self.waitingGauge.record(waiting)
            if let answer { continuation.resume(returning: answer) }
        }
        guard admitted else {
            Self.refusals.increment()
            throw APIFailure(Self.busy)
        }
        defer { release() }
        if let result = try? await NIOThreadPool.singleton.runIfActive(work) { return result }
        return work()  // the pool is shutting down: finish the request anyway
    }

    /// Hands the slot to the first waiting, or frees it.
    private func release() {
        let (next, waiting) = state.withLock { state -> (CheckedContinuation<Bool, Never>?, Int) in
            guard !state.waiting.isEmpty else {
                state.running -= 1
                return (nil, 0)
            }
            return (state.waiting.removeFirst(), state.waiting.count)
        }
        Self.waitingGauge.record(waiting)
        next?.resume(returning: true)
    }
}
