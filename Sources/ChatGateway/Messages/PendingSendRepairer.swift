import ChatScripts
import Logging
import Metrics
import Model
import RedisClient
import ServiceLifecycle

/// Finishes the single sends between partitions that a crash left half-done
/// (`SingleSendSteps`): every `interval`, in each partition, the `pending` records whose
/// deadline has passed get the recipient's step and the last step run again. Both are
/// idempotent (the `applied` marker, the record itself), so a send that is only slow, or
/// repaired by two processes at once, still happens once: the recipient has the message
/// once, in history, stream and queue (or pushed), and the sender's history has it.
/// Nothing to do on one Redis (a send there is one script run).
package struct PendingSendRepairer: Service {
    let steps: SingleSendSteps
    let interval: Duration
    let logger: Logger

    /// Records looked at per partition and round.
    static let batch = 100

    static let repaired = Counter(label: "chat_single_sends_repaired_total")
    static let failures = Counter(label: "chat_single_send_repair_failures_total")

    package init(sender: MessageSender, interval: Duration, logger: Logger) {
        steps = sender.steps
        self.interval = interval
        self.logger = logger
    }

    var redis: RedisClient { steps.scripts.client }

    package func run() async throws {
        // A service that returns ends the group: with nothing to repair, it waits.
        guard steps.keys.layout.partitions > 1 else {
            try? await gracefulShutdown()
            return
        }
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = await repairExpired(now: WallClock.milliseconds())
                try await Task.sleep(for: interval)
            }
        }
    }

    /// One round over every partition; returns how many sends it finished. The deadlines
    /// are Redis' clock and `now` this host's: a skew only moves a repair earlier or later.
    func repairExpired(now: Int64) async -> Int {
        var finished = 0
        for partition in 0..<steps.keys.layout.partitions {
            do {
                finished += try await repairExpired(in: partition, now: now)
            } catch {
                Self.failures.increment()
                logger.warning("pending sends not repaired", metadata: ["partition": "\(partition)", "error": "\(error)"])
            }
        }
        return finished
    }

    private func repairExpired(in partition: Int, now: Int64) async throws -> Int {
        let pending = steps.keys.pendingSends(partition: partition)
        let ids = try await redis.send("ZRANGEBYSCORE", pending, "-inf", String(now), "LIMIT", "0", String(Self.batch))
            .throwingOnError().array?.compactMap(\.string) ?? []
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
            Self.repaired.increment()
            logger.info("a pending single send finished", metadata: ["id": "\(id)", "partition": "\(partition)"])
            finished += 1
        }
        return finished
    }
}
