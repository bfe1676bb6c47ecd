import ServiceLifecycle

/// Holds a graceful shutdown, right after the server has stopped, until every WebSocket
/// connection has begun its release: no server task waits for a WebSocket to close
/// (`Gateway.serve`), so without it the background work and Redis could stop before the
/// connections the server has just dropped gave back what they had not written.
package struct GatewayDrain: Service {
    let connections: ConnectionTable
    /// How long the drain waits at most (a connection that never closes does not hold
    /// the process).
    let patience: Duration

    package init(connections: ConnectionTable, patience: Duration = .seconds(10)) {
        self.connections = connections
        self.patience = patience
    }

    package func run() async {
        // Returns at shutdown (or cancellation); the server stops before this (reverse order).
        try? await gracefulShutdown()
        let deadline = ContinuousClock.now + patience
        while connections.count > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
