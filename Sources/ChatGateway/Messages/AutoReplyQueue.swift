import Logging
import Metrics
import Synchronization

/// A question accepted by the send path, waiting for its automatic answer.
package struct AutoReplyJob: Sendable {
    package let question: AskedQuestion
    /// Who asked (gets the answer).
    package let asker: Int
    /// Whose pairs answer (the question's recipient; the answer comes from them).
    package let owner: Int
    /// When the question was accepted.
    package let accepted = ContinuousClock.now
}

/// Where the send path leaves questions for `AutoReplyService`: an in-memory FIFO that
/// never blocks the caller (an event loop, for WebSocket sends). Every answer comes the
/// same delay after its question, so first in is first due.
///
/// Bounded (`--auto-reply-queue`; docs/architecture.md, *CPU bounds*): when the service's
/// workers fall this far behind, a new question gets no automatic answer. The question
/// itself was accepted, stored and delivered; only its answer is dropped, counted
/// (`chat_askanswer_replies_total{outcome="dropped"}`) and logged (the first drop, then
/// every thousandth).
package struct AutoReplyQueue: Sendable {
    package static let defaultCapacity = 10_000
    private static let dropped = Counter(label: "chat_askanswer_replies_total", dimensions: [("outcome", "dropped")])
    /// Questions waiting for their answer's time or for a free worker.
    private static let waiting = Gauge(label: "chat_askanswer_queue_depth")

    package let jobs: AsyncStream<AutoReplyJob>
    private let continuation: AsyncStream<AutoReplyJob>.Continuation
    private let depth = Depth()
    private let logger: Logger

    package init(capacity: Int = defaultCapacity, logger: Logger = Logger(label: "bridge.askanswer")) {
        (jobs, continuation) = AsyncStream.makeStream(of: AutoReplyJob.self, bufferingPolicy: .bufferingOldest(capacity))
        self.logger = logger
    }

    func schedule(_ job: AutoReplyJob) {
        switch continuation.yield(job) {
        case .enqueued:
            Self.waiting.record(depth.count.add(1, ordering: .relaxed).newValue)
        case .dropped:
            Self.dropped.increment()
            let drops = depth.drops.add(1, ordering: .relaxed).newValue
            if drops % 1000 == 1 {
                logger.warning("automatic answers queue full: question accepted, its automatic answer dropped", metadata: [
                    "asker": "\(job.asker)", "owner": "\(job.owner)", "dropped_so_far": "\(drops)",
                ])
            }
        default:
            break
        }
    }

    /// A job left the queue (taken by the service).
    package func taken() {
        Self.waiting.record(depth.count.subtract(1, ordering: .relaxed).newValue)
    }

    /// No more questions: the service answers those queued, then ends.
    package func finish() {
        continuation.finish()
    }

    private final class Depth: Sendable {
        let count = Atomic<Int>(0)
        let drops = Atomic<Int>(0)
    }
}
