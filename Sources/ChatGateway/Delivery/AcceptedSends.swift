import Synchronization

/// Sends this process accepted (single and group, over HTTP or a WebSocket) since the
/// last heartbeat took them: the heartbeat adds them to the minute's counter in Redis
/// (`chat:stats:messages:{minute}`, the console's messages per minute). A beat that
/// fails gives them back, so that none is lost with it.
package final class AcceptedSends: Sendable {
    private let count = Atomic<Int>(0)

    package init() {}

    func record() {
        count.add(1, ordering: .relaxed)
    }

    /// The sends counted so far; the counter starts again from zero.
    func take() -> Int {
        count.exchange(0, ordering: .relaxed)
    }

    /// Sends a failed beat took but could not record.
    func giveBack(_ sends: Int) {
        if sends > 0 { count.add(sends, ordering: .relaxed) }
    }
}
