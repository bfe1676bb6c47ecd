import Logging
import Metrics
import RedisClient
import ServiceLifecycle

/// One kind of operation split into steps over two or more partitions (a single send, a
/// friend operation…) whose first step leaves a `pending` record with a deadline. A crash
/// between steps leaves the record; `repairExpired` runs the later steps of the records
/// of one partition whose deadline passed. Every later step is idempotent (an `applied`
/// marker, a record that is dropped once), so an operation that is only slow, or that
/// two processes repair at once, still happens once.
package protocol PendingStepRepair: Sendable {
    /// The operation's name in logs and metrics (`operation` label).
    var operation: String { get }
    /// Finishes at most `limit` expired operations of `partition` (deadline ≤ `now`, ms
    /// since 1970 on this host's clock: a skew against Redis' only moves a repair earlier
    /// or later); returns how many it finished.
    func repairExpired(partition: Int, now: Int64, limit: Int) async throws -> Int
}

/// The bridge's one repair loop: every `interval`, each partition's expired pending
/// records of every kind of operation. Nothing to do on a layout of one partition (an
/// operation there is one script run), so the service then just waits for shutdown.
package struct PendingStepRepairer: Service {
    let repairs: [any PendingStepRepair]
    let partitions: Int
    let interval: Duration
    let logger: Logger

    /// Records looked at per partition, operation and round.
    package static let batch = 100

    package init(repairs: [any PendingStepRepair], partitions: Int, interval: Duration, logger: Logger) {
        self.repairs = repairs
        self.partitions = partitions
        self.interval = interval
        self.logger = logger
    }

    package func run() async throws {
        // A service that returns ends the group: with nothing to repair, it waits.
        guard partitions > 1, !repairs.isEmpty else {
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

    /// One round over every partition and operation; returns how many operations it
    /// finished. A failure in one partition is counted and logged, the others go on.
    package func repairExpired(now: Int64) async -> Int {
        var finished = 0
        for repair in repairs {
            for partition in 0..<partitions {
                do {
                    let count = try await repair.repairExpired(partition: partition, now: now, limit: Self.batch)
                    if count > 0 {
                        Counter(label: "chat_pending_steps_repaired_total", dimensions: [("operation", repair.operation)])
                            .increment(by: count)
                        logger.notice(
                            "finished operations left between steps",
                            metadata: ["operation": "\(repair.operation)", "partition": "\(partition)", "count": "\(count)"]
                        )
                    }
                    finished += count
                } catch {
                    Counter(label: "chat_pending_step_repair_failures_total", dimensions: [("operation", repair.operation)])
                        .increment()
                    logger.warning(
                        "pending operations not repaired",
                        metadata: ["operation": "\(repair.operation)", "partition": "\(partition)", "error": "\(error)"]
                    )
                }
            }
        }
        return finished
    }
}

extension RedisClient {
    /// The ids in a `pending` sorted set (id → deadline, ms) whose deadline is at most
    /// `now`, oldest first, at most `limit`: the records a `PendingStepRepair` finishes.
    package func expiredPending(_ pending: String, now: Int64, limit: Int) async throws -> [String] {
        try await send("ZRANGEBYSCORE", pending, "-inf", String(now), "LIMIT", "0", String(limit))
            .throwingOnError().array?.compactMap(\.string) ?? []
    }
}
