import Synchronization

/// This process's live, authenticated WebSocket connections by connection id: where a
/// delivery addressed to `{thisNode}:{connId}` is pushed.
package final class ConnectionTable: Sendable {
    private let connections = Mutex<[UInt64: GatewayConnection]>([:])
    private let lastID = Atomic<UInt64>(0)

    package init() {}

    func nextID() -> UInt64 {
        lastID.add(1, ordering: .relaxed).newValue
    }

    func insert(_ connection: GatewayConnection) {
        connections.withLock { $0[connection.id] = connection }
    }

    func remove(_ connection: GatewayConnection) {
        _ = connections.withLock { $0.removeValue(forKey: connection.id) }
    }

    /// The connection with this id, if it is still open and belongs to `user`.
    func connection(_ id: UInt64, of user: Int) -> GatewayConnection? {
        connections.withLock { $0[id] }.flatMap { $0.user == user ? $0 : nil }
    }

    var all: [GatewayConnection] {
        connections.withLock { Array($0.values) }
    }

    var count: Int {
        connections.withLock { $0.count }
    }
}
