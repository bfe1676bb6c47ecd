import Model
import RedisClient

/// What a fan-out script (`deliver_many.lua`, `message_send_group.lua`) did with one
/// message for many users: the connections of this process it left to the caller, how
/// many users it routed to other processes (one publish per process), how many it queued.
struct FanOut: Sendable, Equatable {
    /// Connections of this process that get the message here.
    var local: [ConnectionAddress]
    /// The last delivery published to this process before (`DeliveryOrder`).
    var localAfter: UInt64
    var routedUsers: Int
    var queuedUsers: Int
    var droppedByCap: Int

    /// From the script's `local addresses, routed, queued, dropped` elements and the
    /// sequence it answers last.
    init?(_ parts: ArraySlice<RedisReply>, sequence: RedisReply) {
        guard parts.count == 4, let routed = parts[parts.startIndex + 1].integer,
              let queued = parts[parts.startIndex + 2].integer, let dropped = parts[parts.startIndex + 3].integer,
              let after = sequence.integer, after >= 0
        else { return nil }
        localAfter = UInt64(after)
        let text = parts[parts.startIndex].string ?? ""
        local = text.split(separator: ",").compactMap { ConnectionAddress($0) }
        routedUsers = Int(routed)
        queuedUsers = Int(queued)
        droppedByCap = Int(dropped)
    }
}

extension MessageDelivery {
    /// Delivers one message object to many users in one round trip (group notices):
    /// `lua/deliver_many.lua` publishes once per other process and queues the offline.
    @discardableResult
    func deliver(_ message: [UInt8], toEach users: [Int]) async throws -> FanOut? {
        guard !users.isEmpty else { return nil }
        var keys: [any RedisArgument] = [RedisKeys.nodes, RedisKeys.nodeDeliveries]
        keys.reserveCapacity(2 + 2 * users.count)
        var arguments: [any RedisArgument] = [
            message, node, String(policy.deadAfter.milliseconds), String(policy.offlineQueueCap), RedisKeys.nodeChannelPrefix,
        ]
        arguments.reserveCapacity(5 + users.count)
        for user in users {
            keys.append(RedisKeys.online(user))
            keys.append(RedisKeys.offlineQueue(user))
            arguments.append(String(user))
        }
        let reply = try await scripts.run("deliver_many", keys: keys, arguments: arguments).throwingOnError()
        guard let parts = reply.array, parts.count == 5, let fanOut = FanOut(parts[0..<4], sequence: parts[4]) else {
            throw RedisError.server("deliver_many: unexpected reply \(reply)")
        }
        complete(fanOut, message: message)
        return fanOut
    }

    /// Carries out a fan-out: this process's connections get the push (one found closed
    /// gets the message routed again, to a newer connection or the queue); all counted.
    func complete(_ fanOut: FanOut, message: [UInt8]) {
        for address in fanOut.local {
            complete(.local(connection: address.connection, after: fanOut.localAfter), sent: message, to: address.user)
        }
        Self.outcomes.routed.increment(by: fanOut.routedUsers)
        Self.outcomes.queued.increment(by: fanOut.queuedUsers)
        if fanOut.droppedByCap > 0 {
            Self.droppedByCap.increment(by: fanOut.droppedByCap)
            logger.warning("offline queue cap reached: oldest messages dropped", metadata: [
                "dropped": "\(fanOut.droppedByCap)", "cap": "\(policy.offlineQueueCap)",
            ])
        }
    }
}
