import ChatScripts
import Metrics
import Model
import RedisClient

/// Finishes the group sends on a partitioned layout that a crash left half-done
/// (`GroupSendSteps`): the `pending` records whose deadline passed get the group's step,
/// each member partition's and the last step run again (all idempotent: the `applied`
/// markers, the record itself), so every active member has the message once, the group's
/// history and stream once. Run by `PendingStepRepairer`; also reports how many group
/// sends each partition has pending (`chat_group_sends_pending{partition}`).
package struct GroupSendRepair: PendingStepRepair {
    let steps: GroupSendSteps

    package init(sender: MessageSender) {
        steps = sender.groupSteps
    }

    package var operation: String { "group_send" }

    var redis: RedisClient { steps.scripts.client }

    package func repairExpired(partition: Int, now: Int64, limit: Int) async throws -> Int {
        let pending = steps.keys.pendingGroupSends(partition: partition)
        let ids = try await redis.expiredPending(pending, now: now, limit: limit)
        var finished = 0
        for id in ids {
            guard let facts = try await steps.pendingFacts(id, partition: partition) else {
                // Finished meanwhile (or unreadable): nothing left to do for it.
                _ = try await redis.send("ZREM", pending, id)
                continue
            }
            _ = try await steps.finish(id, facts: facts)
            finished += 1
        }
        let count = try await redis.send("ZCARD", pending).throwingOnError().integer ?? 0
        Gauge(label: "chat_group_sends_pending", dimensions: [("partition", String(partition))]).record(count)
        return finished
    }
}
