import ChatScripts
import Model
import RedisClient

/// Delivery to many users at once: what a fan-out script (`deliver_many.lua`,
/// `message_send_group.lua`) decided, carried out on this process.
extension MessageDelivery {
    /// Delivers one message object to many users in one round trip (group notices):
    /// `lua/deliver_many.lua` sends one stream entry per other process and queues the offline.
    @discardableResult
    package func deliver(_ message: [UInt8], toEach users: [Int]) async throws -> FanOut? {
        guard !users.isEmpty else { return nil }
        let fanOut = try await scripts.run(DeliverToMany(
            message: message, users: users, node: node, deadAfterMilliseconds: policy.deadAfter.milliseconds,
            queueCap: policy.offlineQueueCap, queueByteCap: policy.offlineQueueByteCap
        ))
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
                "byte_cap": "\(policy.offlineQueueByteCap)",
            ])
        }
    }
}
