import Synchronization

/// At most `limit` external processes of one kind at a time: a request that finds every
/// slot taken is refused at once rather than queued, so a burst of requests cannot pile
/// up processes (or waiting requests) on the machine.
final class ProcessSlots: Sendable {
    let limit: Int
    private let taken = Mutex(0)

    init(limit: Int) {
        precondition(limit > 0)
        self.limit = limit
    }

    /// Takes a slot; false when all are taken. Every `true` must be followed by `release()`.
    func tryAcquire() -> Bool {
        taken.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func release() {
        taken.withLock { $0 -= 1 }
    }
}
