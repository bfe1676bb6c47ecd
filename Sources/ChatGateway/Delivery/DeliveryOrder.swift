import Metrics
import Synchronization

/// Keeps this process's own pushes behind the deliveries other processes sent to it
/// first.
///
/// A sender whose consecutive messages are taken by different processes (HTTP behind a
/// load balancer) must not see the second overtake the first: when the first was routed
/// here through the node stream and the second is for a connection of the process that
/// took it, the second's push would otherwise race the stream. The scripts number the
/// deliveries sent to each process (`chat:nodes:deliveries`) and tell a local route
/// the number of the last one; that push waits until the listener has handled it — in
/// practice never, or for the few microseconds the stream is behind.
///
/// A number that does not arrive in time (the listener's connection broken and being
/// re-established, or an entry a live process reaped while this one stalled) holds a push
/// for `patience` at most, and then counts as handled: the pushes after it do not wait
/// for it again. After Redis lost the numbers (a restart) they start again from 1: the
/// last number handled is taken as it comes, not as a maximum. A process starts its own
/// numbering afresh when it claims its stream (`NodeStreamListener`, `lua/node_claim.lua`),
/// so that numbers left by an earlier process with the same node id are not waited for.
final class DeliveryOrder: Sendable {
    private struct Waiter {
        let id: UInt64
        let after: UInt64
        let push: @Sendable () -> Void
    }

    private struct State {
        var handled: UInt64 = 0
        var waiters: [Waiter] = []
        var lastWaiterID: UInt64 = 0

        /// Removes and returns the waiters whose number has been handled, in order.
        mutating func takeReady() -> [Waiter] {
            guard !waiters.isEmpty else { return [] }
            let handled = handled
            let ready = waiters.filter { $0.after <= handled }
            waiters.removeAll { $0.after <= handled }
            return ready
        }
    }

    private let state = Mutex(State())
    let patience: Duration
    /// Runs the patience of a held push.
    private let background: BackgroundWork

    private static let heldPushes = Counter(label: "chat_delivery_order_held_total")
    private static let impatientPushes = Counter(label: "chat_delivery_order_timeouts_total")

    init(patience: Duration = .seconds(1), background: BackgroundWork) {
        self.patience = patience
        self.background = background
    }

    /// Pushes `message` to `connection` once the delivery numbered `after` has been
    /// handled: at once, as nearly always, without allocating a closure for later.
    func push(_ message: [UInt8], to connection: GatewayConnection, after: UInt64) {
        if state.withLock({ after <= $0.handled }) { return connection.push(message) }
        whenHandled(after) { connection.push(message) }
    }

    /// Runs `push` once the delivery numbered `after` has been handled (at once if it
    /// has meanwhile), or after `patience`.
    private func whenHandled(_ after: UInt64, push: @escaping @Sendable () -> Void) {
        let id: UInt64? = state.withLock { state in
            guard after > state.handled else { return nil }
            state.lastWaiterID += 1
            state.waiters.append(Waiter(id: state.lastWaiterID, after: after, push: push))
            return state.lastWaiterID
        }
        guard let id else { return push() }
        Self.heldPushes.increment()
        background.submit { [patience] in
            try? await Task.sleep(for: patience)
            self.giveUp(on: id)
        }
    }

    /// The listener handled the delivery numbered `sequence` (its pushes are issued):
    /// the pushes waiting for it go now, in the order they came.
    func handled(_ sequence: UInt64) {
        let ready: [Waiter] = state.withLock { state in
            state.handled = sequence
            return state.takeReady()
        }
        for waiter in ready { waiter.push() }
    }

    /// `patience` is over for a push: its number counts as handled, and the pushes waiting
    /// for it or an earlier one go with it, in the order they came.
    private func giveUp(on id: UInt64) {
        let ready: [Waiter] = state.withLock { state in
            guard let waiter = state.waiters.first(where: { $0.id == id }) else { return [] }
            state.handled = max(state.handled, waiter.after)
            return state.takeReady()
        }
        guard !ready.isEmpty else { return }
        Self.impatientPushes.increment()
        for waiter in ready { waiter.push() }
    }
}
