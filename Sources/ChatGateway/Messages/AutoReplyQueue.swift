import Metrics

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
/// same delay after its question, so first in is first due. Bounded: when the service
/// falls this far behind, new questions get no automatic answer (counted).
package struct AutoReplyQueue: Sendable {
    static let defaultCapacity = 10_000
    private static let dropped = Counter(label: "chat_askanswer_replies_total", dimensions: [("outcome", "dropped")])

    package let jobs: AsyncStream<AutoReplyJob>
    private let continuation: AsyncStream<AutoReplyJob>.Continuation

    package init(capacity: Int = defaultCapacity) {
        (jobs, continuation) = AsyncStream.makeStream(of: AutoReplyJob.self, bufferingPolicy: .bufferingOldest(capacity))
    }

    func schedule(_ job: AutoReplyJob) {
        if case .dropped = continuation.yield(job) { Self.dropped.increment() }
    }

    /// No more questions: the service answers those queued, then ends.
    package func finish() {
        continuation.finish()
    }
}
