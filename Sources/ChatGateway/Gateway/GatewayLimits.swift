/// What one WebSocket connection, and one user's connections together, may hold
/// (docs/operations.md, *Flags*; docs/architecture.md, *Delivery*).
package struct GatewayLimits: Sendable {
    /// Bytes a connection may hold that the kernel has not taken yet: frames written whose
    /// writes have not completed, and pushes held back behind a flush. A connection over
    /// it is dropped without a close frame. Small by design (Centrifugo's default is
    /// 1 MiB): the kernel's send buffer holds the slack outside the process, and 100
    /// stalled phones at 1 MiB each would triple the bridge's memory (docs/benchmarks.md,
    /// *Hostile load*).
    package var outboundBytes = 64 << 10
    /// Live sockets one user may hold across every process; one more is dropped.
    package var socketsPerUser = 10

    package init() {}
}
