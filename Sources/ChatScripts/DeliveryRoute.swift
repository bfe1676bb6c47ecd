import RedisClient

/// Where a routing script sent a message (`deliver` and the single send answer the same
/// elements): to a connection of the calling process, which pushes it once the
/// deliveries published to it before (up to `after`) are pushed; through another
/// process's channel; or into the offline queue.
public enum DeliveryRoute: Sendable, Equatable {
    case local(connection: UInt64, after: UInt64)
    case routed(node: String)
    case queued(dropped: Int)
}

extension DeliveryRoute {
    /// The route a send script answers as `kind` and `argument` (the connection, the node,
    /// the entries the queue cap dropped), with `after` for `local`; nil when they make none.
    init?(kind: String, argument: RedisFlatReply.Position, after: Int64?, in reply: RedisFlatReply) {
        switch kind {
        case "local":
            guard let connection = reply.string(at: argument).flatMap({ UInt64($0) }), let after, after >= 0 else {
                return nil
            }
            self = .local(connection: connection, after: UInt64(after))
        case "routed":
            self = .routed(node: reply.string(at: argument) ?? "")
        case "queued":
            self = .queued(dropped: Int(reply.integer(at: argument) ?? 0))
        default:
            return nil
        }
    }
}
