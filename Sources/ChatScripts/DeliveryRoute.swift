/// Where a routing script sent a message (`deliver` and the single send answer the same
/// elements): to a connection of the calling process, which pushes it once the
/// deliveries published to it before (up to `after`) are pushed; through another
/// process's channel; or into the offline queue.
public enum DeliveryRoute: Sendable, Equatable {
    case local(connection: UInt64, after: UInt64)
    case routed(node: String)
    case queued(dropped: Int)
}
