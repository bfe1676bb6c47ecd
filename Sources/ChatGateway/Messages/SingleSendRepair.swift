import ChatScripts
import Model
import RedisClient

/// Finishes the single sends between partitions that a crash left half-done
/// (`SingleSendSteps`): the `pending` records whose deadline passed get the recipient's
/// step and the last step run again (both idempotent: the `applied` marker, the record
/// itself), so the recipient has the message once, in history, stream and queue (or
/// pushed), and the sender's history has it. Run by `PendingStepRepairer`.
package struct SingleSendRepair: PendingStepRepair {
    let steps: SingleSendSteps

    package init(sender: MessageSender) {
        steps = sender.steps
    }

    package var operation: String { "single_send" }

    var redis: RedisClient { steps.scripts.client }

    package func repairExpired(partition: Int, now: Int64, limit: Int) async throws -> Int {
        let pending = steps.keys.pendingSends(partition: partition)
        let ids = try await redis.expiredPending(pending, now: now, limit: limit)
        var finished = 0
        for id in ids {
            let record = try await redis.send("HGETALL", steps.keys.pendingSend(id, partition: partition)).throwingOnError()
            var fields: [String: [UInt8]] = [:]
            var elements = (record.array ?? []).makeIterator()
            while let name = elements.next()?.string, let value = elements.next()?.bytes { fields[name] = value }
            guard let facts = SingleSendFacts(record: fields) else {
                // Finished meanwhile (or unreadable): nothing left to do for it.
                _ = try await redis.send("ZREM", pending, id)
                continue
            }
            let clientID = fields["client_id"].map { String(decoding: $0, as: UTF8.self) }.flatMap { $0.isEmpty ? nil : $0 }
            // The recipient's step, if it runs now, routes the message (pushed here if its
            // target is on this process).
            _ = try await steps.finish(id, facts: facts, clientID: clientID)
            finished += 1
        }
        return finished
    }
}
