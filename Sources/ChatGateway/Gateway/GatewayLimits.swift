/// What one WebSocket connection, and one user's connections together, may hold
/// (docs/operations.md, *Flags*; docs/architecture.md, *Delivery*).
package struct GatewayLimits: Sendable {
    /// Bytes a connection may hold that the kernel has not taken yet: frames written whose
    /// writes have not completed, and pushes held back behind a flush. A connection over
    /// it is dropped without a close frame (Centrifugo's default is the same 1 MiB).
    package var outboundBytes = 1 << 20
    /// Live sockets one user may hold across every process; one more is dropped.
    package var socketsPerUser = 10

    package init() {}
}
