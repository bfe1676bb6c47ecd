import RedisClient

/// Where a routing script sent a message (`deliver.lua` and the send scripts answer the
/// same two elements): to a connection of the calling process, which pushes it; through
/// another process's channel; or into the offline queue.
enum DeliveryRoute: Sendable, Equatable {
    case local(connection: UInt64)
    case routed(node: String)
    case queued(dropped: Int)

    /// From the script's `kind, argument` pair; nil for anything else.
    init?(kind: RedisReply, argument: RedisReply) {
        switch kind.string {
        case "local":
            guard let connection = argument.string.flatMap({ UInt64($0) }) else { return nil }
            self = .local(connection: connection)
        case "routed":
            self = .routed(node: argument.string ?? "")
        case "queued":
            self = .queued(dropped: Int(argument.integer ?? 0))
        default:
            return nil
        }
    }
}
