import ChatScripts
import Model
import RedisClient

/// Delivery to many users at once: what a fan-out script (`deliver_many.lua`,
/// `message_send_group.lua`) decided, carried out on this process.
extension MessageDelivery {
    /// Delivers one message object to many users (group notices), one round trip per
    /// partition of theirs (one on one Redis): `lua/deliver_many.lua` sends one stream
    /// entry per other process and queues the offline. Returns what the runs did, summed.
    @discardableResult
    package func deliver(_ message: [UInt8], toEach users: [Int]) async throws -> FanOut? {
        guard !users.isEmpty else { return nil }
        var total: FanOut?
        for (partition, members) in Self.byPartition(users, layout: keys.layout) {
            let fanOut = try await scripts.run(DeliverToMany(
                keys: keys, partition: partition, message: message, users: members, node: node,
                deadAfterMilliseconds: policy.deadAfter.milliseconds, queueCap: policy.offlineQueueCap,
                queueByteCap: policy.offlineQueueByteCap
            ))
            complete(fanOut, message: message)
            if var sum = total {
                sum.local += fanOut.local
                sum.localAfter = max(sum.localAfter, fanOut.localAfter)
                sum.routedUsers += fanOut.routedUsers
                sum.queuedUsers += fanOut.queuedUsers
                sum.droppedByCap += fanOut.droppedByCap
                total = sum
            } else {
                total = fanOut
            }
        }
        return total
    }

    /// Users grouped by partition, in the order of their first appearance (one group on
    /// the plain layout: the users as given).
    static func byPartition(_ users: [Int], layout: KeyLayout) -> [(partition: Int, users: [Int])] {
        guard layout.partitions > 1 else { return [(0, users)] }
        var groups: [(partition: Int, users: [Int])] = []
        var index: [Int: Int] = [:]
        for user in users {
            let partition = layout.partition(ofUser: user)
            if let at = index[partition] {
                groups[at].users.append(user)
            } else {
                index[partition] = groups.count
                groups.append((partition, [user]))
            }
        }
        return groups
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
                "byte_cap": "\(policy.offlineQueueByteCap)",
            ])
        }
    }
}
