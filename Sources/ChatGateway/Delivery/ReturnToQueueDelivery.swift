import ChatScripts
import Metrics

extension MessageDelivery {
    static let returnedToQueue = Counter(label: "chat_ws_returned_messages_total")

    /// What a closed or dropped connection had not handed to the kernel goes back to its
    /// user's offline queue (`lua/offline_return.lua`), in order: `front` before everything
    /// queued, `back` after it (docs/architecture.md, *Delivery*).
    func returnToQueue(front: [[UInt8]], back: [[UInt8]], of user: Int) async {
        do {
            let dropped = try await scripts.run(ReturnToQueue(
                keys: keys, user: user, queueCap: policy.offlineQueueCap, queueByteCap: policy.offlineQueueByteCap, front: front, back: back
            ))
            Self.returnedToQueue.increment(by: front.count + back.count)
            if dropped > 0 {
                Self.droppedByCap.increment(by: dropped)
                logger.warning("offline queue cap reached: oldest messages dropped", metadata: [
                    "user": "\(user)", "dropped": "\(dropped)", "cap": "\(policy.offlineQueueCap)",
                    "byte_cap": "\(policy.offlineQueueByteCap)",
                ])
            }
        } catch {
            logger.error("unwritten messages could not be queued again", metadata: [
                "user": "\(user)", "count": "\(front.count + back.count)", "error": "\(error)",
            ])
        }
    }
}
