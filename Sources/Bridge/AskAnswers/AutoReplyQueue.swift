import Metrics

/// A question accepted by the send path, waiting for its automatic answer.
struct AutoReplyJob: Sendable {
    let question: AskedQuestion
    /// Who asked (gets the answer).
    let asker: Int
    /// Whose pairs answer (the question's recipient; the answer comes from them).
    let owner: Int
    /// When the question was accepted.
    let accepted = ContinuousClock.now
}

/// Where the send path leaves questions for `AutoReplyService`: an in-memory FIFO that
/// never blocks the caller (an event loop, for WebSocket sends). Every answer comes the
/// same delay after its question, so first in is first due. Bounded: when the service
/// falls this far behind, new questions get no automatic answer (counted).
struct AutoReplyQueue: Sendable {
    static let defaultCapacity = 10_000
    private static let dropped = Counter(label: "chat_askanswer_replies_total", dimensions: [("outcome", "dropped")])

    let jobs: AsyncStream<AutoReplyJob>
    private let continuation: AsyncStream<AutoReplyJob>.Continuation

    init(capacity: Int = defaultCapacity) {
        (jobs, continuation) = AsyncStream.makeStream(of: AutoReplyJob.self, bufferingPolicy: .bufferingOldest(capacity))
    }

    func schedule(_ job: AutoReplyJob) {
        if case .dropped = continuation.yield(job) { Self.dropped.increment() }
    }

    /// No more questions: the service answers those queued, then ends.
    func finish() {
        continuation.finish()
    }
}
