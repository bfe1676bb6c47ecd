import RedisClient

/// Where a routing script sent a message (`deliver.lua` and the send scripts answer the
/// same elements): to a connection of the calling process, which pushes it once the
/// deliveries published to it before (up to `after`, see `DeliveryOrder`) are pushed;
/// through another process's channel; or into the offline queue.
package enum DeliveryRoute: Sendable, Equatable {
    case local(connection: UInt64, after: UInt64)
    case routed(node: String)
    case queued(dropped: Int)

    /// From the script's `kind, argument` pair (and for `local` the sequence); nil for
    /// anything else.
    init?(kind: RedisReply, argument: RedisReply, sequence: RedisReply?) {
        switch kind.string {
        case "local":
            guard let connection = argument.string.flatMap({ UInt64($0) }),
                  let after = sequence?.integer, after >= 0 else { return nil }
            self = .local(connection: connection, after: UInt64(after))
        case "routed":
            self = .routed(node: argument.string ?? "")
        case "queued":
            self = .queued(dropped: Int(argument.integer ?? 0))
        default:
            return nil
        }
    }
}
