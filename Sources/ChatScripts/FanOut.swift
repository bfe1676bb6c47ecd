import Model
import RedisClient

/// What a fan-out script (`deliver_many`, `message_send_group`) did with one message for
/// many users: the connections of this process it left to the caller, how many users it
/// routed to other processes (one publish per process), how many it queued.
public struct FanOut: Sendable, Equatable {
    /// Connections of this process that get the message here.
    public var local: [ConnectionAddress]
    /// The last delivery published to this process before.
    public var localAfter: UInt64
    public var routedUsers: Int
    public var queuedUsers: Int
    public var droppedByCap: Int

    public init(local: [ConnectionAddress], localAfter: UInt64, routedUsers: Int, queuedUsers: Int, droppedByCap: Int) {
        self.local = local
        self.localAfter = localAfter
        self.routedUsers = routedUsers
        self.queuedUsers = queuedUsers
        self.droppedByCap = droppedByCap
    }

    /// From the script's `local addresses, routed, queued, dropped` elements; the
    /// sequence (`localAfter`) is read by the caller, where the script puts it.
    static func read(from reader: inout ScriptReplyReader) throws(RedisError) -> FanOut {
        let addresses = try reader.string()
        return FanOut(
            local: addresses.split(separator: ",").compactMap { ConnectionAddress($0) }, localAfter: 0,
            routedUsers: try reader.int(), queuedUsers: try reader.int(), droppedByCap: try reader.int()
        )
    }
}
