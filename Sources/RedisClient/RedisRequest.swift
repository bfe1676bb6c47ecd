import NIOCore

/// Commands already encoded by the caller (off the event loop), the deadline for their
/// replies, and who is waiting for them.
struct RedisRequest: Sendable {
    var bytes: ByteBuffer
    var responder: RedisResponder
    var deadline: NIODeadline

    func fail(_ error: RedisError) { responder.fail(error) }
}

/// Who waits for the replies of one request. A single command resumes a continuation
/// directly, with a tree or the flat reply; a pipeline of N commands collects N replies
/// first.
enum RedisResponder: Sendable {
    case single(CheckedContinuation<RedisReply, any Error>)
    case flat(CheckedContinuation<RedisFlatReply, any Error>)
    /// A flat reply for code on an event loop (no task, no continuation).
    case flatPromise(EventLoopPromise<RedisFlatReply>)
    case batch(RedisReplyCollector)

    func fail(_ error: RedisError) {
        switch self {
        case .single(let continuation): continuation.resume(throwing: error)
        case .flat(let continuation): continuation.resume(throwing: error)
        case .flatPromise(let promise): promise.fail(error)
        case .batch(let collector): collector.complete(.failure(error))
        }
    }
}

/// Gathers the replies of a pipeline. Touched only on the connection's event loop after
/// it has been handed over, hence `@unchecked Sendable`.
final class RedisReplyCollector: @unchecked Sendable {
    private(set) var replies: [RedisReply]
    let expected: Int
    private let onComplete: @Sendable (Result<[RedisReply], RedisError>) -> Void

    init(expected: Int, onComplete: @escaping @Sendable (Result<[RedisReply], RedisError>) -> Void) {
        self.expected = expected
        self.replies = []
        self.replies.reserveCapacity(expected)
        self.onComplete = onComplete
    }

    var isAwaitingLastReply: Bool { replies.count + 1 == expected }

    /// Adds a reply; the waiter is told once all have arrived.
    func add(_ reply: RedisReply) {
        replies.append(reply)
        if replies.count == expected { complete(.success(replies)) }
    }

    func complete(_ result: Result<[RedisReply], RedisError>) {
        onComplete(result)
    }
}
