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
///
/// On a partitioned layout each partition numbers its deliveries apart (its own
/// `chat:nodes:deliveries`, read from its own stream by its own reader): a number is
/// waited for in its partition. One sender's messages to one recipient are all routed in
/// the recipient's partition, so they keep their order.
final class DeliveryOrder: Sendable {
    private struct Waiter {
        let id: UInt64
        let partition: Int
        let after: UInt64
        let push: @Sendable () -> Void
    }

    private struct State {
        /// Per partition, the last number handled.
        var handled: [UInt64]
        var waiters: [Waiter] = []
        var lastWaiterID: UInt64 = 0

        /// Removes and returns the waiters of `partition` whose number has been handled, in order.
        mutating func takeReady(in partition: Int) -> [Waiter] {
            guard !waiters.isEmpty else { return [] }
            let handled = handled[partition]
            let isReady = { (waiter: Waiter) in waiter.partition == partition && waiter.after <= handled }
            let ready = waiters.filter(isReady)
            waiters.removeAll(where: isReady)
            return ready
        }
    }

    private let state: Mutex<State>
    let patience: Duration
    /// Runs the patience of a held push.
    private let background: BackgroundWork

    private static let heldPushes = Counter(label: "chat_delivery_order_held_total")
    private static let impatientPushes = Counter(label: "chat_delivery_order_timeouts_total")

    init(partitions: Int = 1, patience: Duration = .seconds(1), background: BackgroundWork) {
        state = Mutex(State(handled: Array(repeating: 0, count: max(partitions, 1))))
        self.patience = patience
        self.background = background
    }

    /// Pushes `message` to `connection` once the delivery numbered `after` of `partition`
    /// has been handled: at once, as nearly always, without allocating a closure for later.
    func push(_ message: [UInt8], to connection: GatewayConnection, after: UInt64, partition: Int = 0) {
        if state.withLock({ after <= $0.handled[partition] }) { return connection.push(message) }
        whenHandled(after, partition: partition) { connection.push(message) }
    }

    /// Runs `push` once the delivery numbered `after` has been handled (at once if it
    /// has meanwhile), or after `patience`.
    private func whenHandled(_ after: UInt64, partition: Int, push: @escaping @Sendable () -> Void) {
        let id: UInt64? = state.withLock { state in
            guard after > state.handled[partition] else { return nil }
            state.lastWaiterID += 1
            state.waiters.append(Waiter(id: state.lastWaiterID, partition: partition, after: after, push: push))
            return state.lastWaiterID
        }
        guard let id else { return push() }
        Self.heldPushes.increment()
        background.submit { [patience] in
            try? await Task.sleep(for: patience)
            self.giveUp(on: id)
        }
    }

    /// The listener of `partition` handled the delivery numbered `sequence` (its pushes
    /// are issued): the pushes waiting for it go now, in the order they came.
    func handled(_ sequence: UInt64, partition: Int = 0) {
        let ready: [Waiter] = state.withLock { state in
            state.handled[partition] = sequence
            return state.takeReady(in: partition)
        }
        for waiter in ready { waiter.push() }
    }

    /// `patience` is over for a push: its number counts as handled, and the pushes waiting
    /// for it or an earlier one go with it, in the order they came.
    private func giveUp(on id: UInt64) {
        let ready: [Waiter] = state.withLock { state in
            guard let waiter = state.waiters.first(where: { $0.id == id }) else { return [] }
            state.handled[waiter.partition] = max(state.handled[waiter.partition], waiter.after)
            return state.takeReady(in: waiter.partition)
        }
        guard !ready.isEmpty else { return }
        Self.impatientPushes.increment()
        for waiter in ready { waiter.push() }
    }
}
