import NIOCore

/// Why a Redis call failed. Every failure is one of these, so callers can tell a
/// timeout (the command may or may not have run) from a refusal by the server.
public enum RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No reply within the command timeout. `detail` says what was going on (for
    /// example the last connection error while Redis was unreachable).
    case timeout(TimeAmount, detail: String)
    /// The connection broke while the command was in flight: it may or may not have run.
    case connectionClosed
    /// The server answered with an error reply (`ERR …`, `NOSCRIPT …`, `WRONGTYPE …`).
    case server(String)
    /// The bytes from the server were not valid RESP; the connection is dropped.
    case protocolError(String)
    /// The client was shut down.
    case shutdown
    /// A script name that the registry does not hold.
    case unknownScript(String)
    /// The command was never sent: the server could not be reached (a cluster node
    /// that is down; the cluster client sends it to the slot's new primary instead).
    case unreachable(String)
    /// Refused before it was sent: the command's keys are in different hash slots of a
    /// cluster (no single node holds them).
    case crossSlot(command: String)
    /// Refused: this works against one Redis only and the configuration names a cluster
    /// (`RedisSubscriber`: the bridge's delivery between processes uses per-node streams).
    case notOnCluster(String)

    public var description: String {
        switch self {
        case .timeout(let amount, let detail):
            "Redis command timed out after \(amount.nanoseconds / 1_000_000) ms" + (detail.isEmpty ? "" : " (\(detail))")
        case .connectionClosed: "Redis connection closed before the reply arrived"
        case .server(let message): "Redis error: \(message)"
        case .protocolError(let message): "Redis protocol error: \(message)"
        case .shutdown: "Redis client is shut down"
        case .unknownScript(let name): "no Lua script named '\(name)'"
        case .unreachable(let detail): "Redis unreachable, command not sent: \(detail)"
        case .crossSlot(let command): "\(command): keys in different cluster hash slots (refused before sending)"
        case .notOnCluster(let detail): "not on a Redis Cluster: \(detail)"
        }
    }
}
