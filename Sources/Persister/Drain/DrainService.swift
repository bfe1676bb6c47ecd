import Logging
import MariaDB
import Model
import RedisClient
import ServiceLifecycle

/// `persister run`'s work: reads its streams with the consumer group, writes each batch
/// in one MariaDB transaction and acknowledges it after the commit.
///
/// Failures (docs/operations.md, *Persister commands*): MariaDB unreachable → the batch is retried with
/// back-off, nothing acknowledged. A batch failing on its data → written again entry by
/// entry, so that one bad entry holds up only itself; an entry failing `maxAttempts`
/// times → dead-letter stream and acknowledged. A consumer that died → its entries are
/// claimed after `claimIdle`. SIGTERM → the batch in hand is finished (written and
/// acknowledged, unless MariaDB is down: then it stays pending for the next run) and the
/// service returns.
struct DrainService: Service {
    let settings: DrainSettings
    let session: MariaDBSession
    /// A second connection for a backlog: full batches alternate between the two, one
    /// committing while the next executes.
    let secondSession: MariaDBSession
    let consumer: StreamConsumer
    let metrics: PersisterMetrics
    /// Between attempts to reach Redis or MariaDB while it is down.
    var backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(10))
    let logger: Logger

    private var retrier: Retrier { Retrier(backoff: backoff, logger: logger) }
    /// Sizes the reads so that a batch stops at `batchBytes` as well as at `batchSize`.
    private let budget: BatchBudget

    init(
        settings: DrainSettings, session: MariaDBSession, secondSession: MariaDBSession, consumer: StreamConsumer,
        metrics: PersisterMetrics, backoff: Backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(10)), logger: Logger
    ) {
        self.settings = settings
        self.session = session
        self.secondSession = secondSession
        self.consumer = consumer
        self.metrics = metrics
        self.backoff = backoff
        self.logger = logger
        budget = BatchBudget(entries: settings.batchSize, bytes: settings.batchBytes)
    }

    func run() async throws {
        let stopping = StopFlag()
        await withGracefulShutdownHandler {
            await drain(stopping)
        } onGracefulShutdown: {
            stopping.set()
        }
        logger.info("persister stopped")
    }

    private func drain(_ stopping: StopFlag) async {
        guard let writer = await prepare(stopping), await createGroups(stopping) else { return }
        logger.info("persister draining", metadata: [
            "consumer": "\(consumer.consumer)", "group": "\(consumer.group)", "shards": "\(consumer.shards.count)",
            "batch_size": "\(settings.batchSize)",
            "batch_delay_ms": "\(settings.batchDelay.milliseconds)", "batch_bytes": "\(settings.batchBytes)",
        ])
        var state = LoopState()
        var lastClaim = ContinuousClock.now - settings.claimInterval
        // Entries read while the previous batch was being written (a backlog).
        var prefetched: DecodedBatch?
        while !stopping.isSet {
            if let ready = prefetched {
                prefetched = nil
                await persistOverlapping(ready, full: budget.nextRead(count: ready.count, used: ready.bytes) == 0, writer: writer, state: &state, stopping: stopping, next: &prefetched)
                continue
            }
            // Nothing read ahead: the batch in the background is finished before blocking.
            await settle(&state, stopping: stopping)
            let read = Retrier.Step(failure: "cannot read the streams; retrying", whenStopping: .giveUp(afterAttempts: 1))
            guard let batch = await retrier.run(read, stopping: stopping, {
                try await nextBatch(&state, lastClaim: &lastClaim, stopping: stopping)
            }) else { break }
            guard !batch.isEmpty else { continue }
            await persistOverlapping(
                DecodedBatch(batch, writer: writer), full: budget.nextRead(count: batch.count, used: batch.reduce(0) { $0 + $1.byteCount }) == 0,
                writer: writer, state: &state,
                stopping: stopping, next: &prefetched
            )
        }
        // Read before the stop: written and acknowledged too.
        await settle(&state, stopping: stopping)
        if let ready = prefetched {
            await persist(ready, writer: writer, state: &state, stopping: stopping)
        }
    }

    /// Writes `batch`. When it is full (a backlog) it is written in the background on the
    /// connection the batch before is not using, so that one batch's commit overlaps the
    /// next one's execution and MariaDB works on two cores; meanwhile the next batch is
    /// read, decoded and its statements built (into `next`) and the batch before is
    /// acknowledged once committed. Two batches go side by side only when at most one of
    /// them has entity changes: an upsert's tombstone check must see a delete that another
    /// batch commits.
    private func persistOverlapping(
        _ batch: DecodedBatch, full: Bool, writer: BatchWriter, state: inout LoopState, stopping: StopFlag,
        next: inout DecodedBatch?
    ) async {
        guard full, !stopping.isSet else {
            await settle(&state, stopping: stopping)
            await persist(batch, writer: writer, state: &state, stopping: stopping)
            return
        }
        if let inFlight = state.inFlight, inFlight.hasEntityChanges, !batch.hasNoEntityChanges {
            await settle(&state, stopping: stopping)
        }
        let free = state.inFlight?.session === session ? secondSession : session
        // Not structured (it outlives this call), but owned: `state.inFlight` holds it and
        // `settle` awaits it, which `drain` does on every path before it returns.
        let task = Task { await writeBatch(batch, writer: writer, session: free, stopping: stopping) }
        let upcoming = await prefetch(writer: writer)
        await settle(&state, stopping: stopping)
        state.inFlight = InFlight(task: task, session: free, hasEntityChanges: !batch.hasNoEntityChanges)
        next = upcoming.isEmpty ? nil : upcoming
    }

    /// Waits for the batch written in the background, then acknowledges it (or retries
    /// what failed). Called before anything else uses the connections or blocks.
    private func settle(_ state: inout LoopState, stopping: StopFlag) async {
        guard let inFlight = state.inFlight else { return }
        state.inFlight = nil
        if let outcome = await inFlight.task.value {
            await finish([outcome], state: &state, stopping: stopping)
        }
    }

    /// A full batch being written on `session` while the loop goes on.
    private struct InFlight {
        let task: Task<BatchOutcome?, Never>
        let session: MariaDBSession
        let hasEntityChanges: Bool
    }

    private func prefetch(writer: BatchWriter) async -> DecodedBatch {
        var entries: [StreamEntry] = []
        var bytes = 0
        try? await read(into: &entries, bytes: &bytes, block: .zero)
        return DecodedBatch(entries, writer: writer)
    }

    /// What the loop carries from one batch to the next.
    private struct LoopState {
        /// Entries that failed on their data, retried after `entryRetryDelay`.
        var retry: [StreamEntry] = []
        var retryDue = ContinuousClock.now
        /// Failed attempts per entry (`stream id`).
        var attempts: [String: Int] = [:]
        var claimCursors: [String: String] = [:]
        /// The batch written in the background (a backlog), not acknowledged yet.
        var inFlight: InFlight?
    }

    // MARK: Reading

    /// The entries due for a retry if there are, else those another consumer left
    /// pending (every `claimInterval`), else new ones.
    private func nextBatch(
        _ state: inout LoopState, lastClaim: inout ContinuousClock.Instant, stopping: StopFlag
    ) async throws -> [StreamEntry] {
        let now = ContinuousClock.now
        if !state.retry.isEmpty, now >= state.retryDue {
            let due = state.retry
            state.retry = []
            return due
        }
        if now - lastClaim >= settings.claimInterval {
            lastClaim = now
            let claimed = try await consumer.claim(
                minIdle: settings.claimIdle, count: budget.nextRead(count: 0, used: 0), cursors: &state.claimCursors
            )
            budget.observe(claimed)
            if !claimed.isEmpty {
                metrics.claimed.increment(by: claimed.count)
                logger.notice("claimed entries another consumer left pending", metadata: ["entries": "\(claimed.count)"])
                return claimed
            }
        }
        return try await readBatch(stopping, retryPending: !state.retry.isEmpty)
    }

    /// Up to `batchSize` entries and about `batchBytes`: waits up to `poll` for the first,
    /// then `batchDelay` for more. With entries waiting for a retry it does not block.
    private func readBatch(_ stopping: StopFlag, retryPending: Bool) async throws -> [StreamEntry] {
        let block = retryPending ? settings.entryRetryDelay : settings.poll
        var batch: [StreamEntry] = []
        var bytes = 0
        let full = try await read(into: &batch, bytes: &bytes, block: block, stopping: stopping)
        if !batch.isEmpty && !full && (settings.batchDelay > .zero) && !stopping.isSet {
            await stopping.sleep(for: settings.batchDelay)
            try await read(into: &batch, bytes: &bytes, block: .zero)
        }
        return batch
    }

    /// Reads new entries into `batch` until it holds `batchSize` entries or `batchBytes`
    /// bytes (true: full), or the streams have no more (false); only the first read waits,
    /// up to `block`. Each read asks for what the budget leaves (`BatchBudget`).
    @discardableResult
    private func read(into batch: inout [StreamEntry], bytes: inout Int, block: Duration, stopping: StopFlag? = nil) async throws -> Bool {
        var wait = block
        while true {
            let count = budget.nextRead(count: batch.count, used: bytes)
            guard count > 0 else { return true }
            let read = try await consumer.read(count: count, block: wait, stopping: stopping)
            wait = .zero
            budget.observe(read)
            batch += read
            bytes += read.reduce(0) { $0 + $1.byteCount }
            if read.count < count { return false }
        }
    }

    // MARK: Writing

    private enum WriteOutcome {
        case committed
        /// The entries themselves failed (the transaction was rolled back).
        case failed(String)
        /// MariaDB unreachable and a shutdown requested: nothing written.
        case stopped
    }

    /// A batch read, decoded and its statements built: done for the next batch while the
    /// current one is written.
    private struct DecodedBatch: Sendable {
        var decoded: [StreamEntry] = []
        var items: [PersistableEntry] = []
        /// Entries with nothing to write (public copies): acknowledged with the batch.
        var skipped: [StreamEntry] = []
        var failed: [(StreamEntry, String)] = []
        var prepared: BatchWriter.PreparedWrite?
        /// The entries read, and their bytes (`BatchBudget`).
        var count = 0
        var bytes = 0

        init(_ batch: [StreamEntry], writer: BatchWriter) {
            count = batch.count
            decoded.reserveCapacity(batch.count)
            items.reserveCapacity(batch.count)
            for entry in batch {
                bytes += entry.byteCount
                do {
                    guard let item = try PersistableEntry.decode(entry) else {
                        skipped.append(entry)
                        continue
                    }
                    items.append(item)
                    decoded.append(entry)
                } catch {
                    failed.append((entry, error.description))
                }
            }
            prepared = items.isEmpty ? nil : writer.prepare(items)
        }

        var isEmpty: Bool { decoded.isEmpty && skipped.isEmpty && failed.isEmpty }

        var hasNoEntityChanges: Bool { prepared?.changes.isEmpty ?? true }
    }

    /// What writing a batch came to; nothing is acknowledged yet.
    private struct BatchOutcome: Sendable {
        var committed: [StreamEntry] = []
        var failed: [(StreamEntry, String)] = []
    }

    private func persist(_ batch: DecodedBatch, writer: BatchWriter, state: inout LoopState, stopping: StopFlag) async {
        guard let outcome = await writeBatch(batch, writer: writer, session: session, stopping: stopping) else { return }
        await finish([outcome], state: &state, stopping: stopping)
    }

    /// Writes the batch on `session` (rewritten entry by entry when it fails on its data);
    /// nil when MariaDB is down and a shutdown was requested (the batch stays pending).
    private func writeBatch(_ batch: DecodedBatch, writer: BatchWriter, session: MariaDBSession, stopping: StopFlag) async -> BatchOutcome? {
        let decoded = batch.decoded, items = batch.items
        var outcome = BatchOutcome(committed: batch.skipped, failed: batch.failed)
        if let prepared = batch.prepared {
            switch await write(prepared, writer: writer, session: session, stopping: stopping) {
            case .committed:
                outcome.committed += decoded
            case .stopped:
                return nil
            case .failed(let reason) where items.count == 1:
                outcome.failed.append((decoded[0], reason))
            case .failed(let reason):
                metrics.splitRetries.increment()
                logger.warning("a batch failed on its data; writing it entry by entry", metadata: [
                    "entries": "\(items.count)", "error": "\(reason)",
                ])
                for (entry, item) in zip(decoded, items) {
                    switch await write(writer.prepare([item]), writer: writer, session: session, stopping: stopping) {
                    case .committed: outcome.committed.append(entry)
                    case .failed(let reason): outcome.failed.append((entry, reason))
                    case .stopped: break
                    }
                    if stopping.isSet { break }
                }
            }
        }
        return outcome
    }

    /// After the commits: acknowledges what was written (one XACK per stream for all the
    /// batches), then retries or dead-letters what failed.
    private func finish(_ outcomes: [BatchOutcome], state: inout LoopState, stopping: StopFlag) async {
        let committed = outcomes.flatMap(\.committed)
        if !committed.isEmpty {
            let ackStart = ContinuousClock.now
            await acknowledge(committed, stopping: stopping)
            logger.trace("acknowledged", metadata: ["entries": "\(committed.count)", "ms": "\((ContinuousClock.now - ackStart).milliseconds)"])
            for outcome in outcomes where !outcome.committed.isEmpty {
                metrics.batchSize.record(outcome.committed.count)
                metrics.batchBytes.record(outcome.committed.reduce(0) { $0 + $1.byteCount })
            }
            for entry in committed {
                metrics.entries[entry.kind]?.increment()
                state.attempts[entry.reference] = nil
            }
        }
        for outcome in outcomes {
            for (entry, reason) in outcome.failed {
                await fail(entry, reason: reason, state: &state)
            }
        }
    }

    /// One transaction; retried with back-off while MariaDB is unreachable.
    private func write(
        _ items: BatchWriter.PreparedWrite, writer: BatchWriter, session: MariaDBSession, stopping: StopFlag
    ) async -> WriteOutcome {
        let step = Retrier.Step(
            failure: "MariaDB unavailable; retrying the batch, nothing acknowledged", recovery: "MariaDB is back; batch written",
            logs: .firstAndEveryTenth, whenStopping: .giveUp(afterAttempts: 1)
        )
        let clock = ContinuousClock()
        do {
            let written: Void? = try await retrier.run(
                step, stopping: stopping, final: Self.entriesFault, onFailure: { metrics.mariaDBRetries.increment() }
            ) {
                let start = clock.now
                _ = try await session.withConnection { connection in
                    if writer.isSingleStatement(items) {
                        // A placeholder fill-up after it is idempotent on its own (docs/architecture.md, *Persister*).
                        try writer.write(items, on: connection)
                    } else {
                        try connection.transaction { connection in try writer.write(items, on: connection) }
                    }
                }
                metrics.commitTime.record(duration: start.duration(to: clock.now))
                logger.trace("committed", metadata: ["ms": "\(start.duration(to: clock.now).milliseconds)"])
            }
            return written == nil ? .stopped : .committed
        } catch {
            return .failed("\(error)")
        }
    }

    /// The error itself when a failed write is the entries' fault (not retried), nil when
    /// MariaDB is unavailable (retried).
    private static func entriesFault(_ error: any Error) -> (any Error)? {
        if let error = error as? MariaDBError, isUnavailable(error) { return nil }
        return error
    }

    /// Errors that say nothing about the entries: the server is down, restarting,
    /// overloaded, not migrated yet, or refuses LOAD DATA LOCAL INFILE since the persister
    /// started (1148, 3948: `local_infile` turned off; a restart writes with INSERTs).
    /// Anything else is the entries' fault.
    static func isUnavailable(_ error: MariaDBError) -> Bool {
        if error.isConnectionLost || error.isTransient || error.code.isClientError { return true }
        switch error.code.rawValue {
        case 1040, 1041, 1043, 1044, 1045, 1049, 1053, 1077, 1146, 1148, 1290, 1927, 1969, 3948, 4031: return true
        default: return false
        }
    }

    private func acknowledge(_ entries: [StreamEntry], stopping: StopFlag) async {
        // Written but not acknowledged: another delivery writes them again, which changes
        // nothing. Still worth a few tries when stopping, to spare that work.
        let step = Retrier.Step(
            failure: "cannot acknowledge written entries; retrying", metadata: ["entries": "\(entries.count)"],
            whenStopping: .giveUp(afterAttempts: 3)
        )
        _ = await retrier.run(step, stopping: stopping) { try await consumer.acknowledge(entries) }
    }

    /// An entry failed on its data: retried later, or dead-lettered after `maxAttempts`.
    private func fail(_ entry: StreamEntry, reason: String, state: inout LoopState) async {
        let attempts = (state.attempts[entry.reference] ?? 0) + 1
        state.attempts[entry.reference] = attempts
        let deliveries = (try? await consumer.deliveries(of: entry)) ?? 0
        let tries = max(attempts, deliveries)
        guard tries >= settings.maxAttempts else {
            metrics.entryRetries.increment()
            logger.warning("entry failed; retrying it", metadata: [
                "entry": "\(entry.reference)", "attempt": "\(tries)", "max_attempts": "\(settings.maxAttempts)", "error": "\(reason)",
            ])
            state.retry.append(entry)
            state.retryDue = .now + settings.entryRetryDelay
            return
        }
        do {
            try await consumer.deadLetter(entry, error: reason, attempts: tries, hardCap: settings.deadLetterCap)
            state.attempts[entry.reference] = nil
            metrics.deadLetters.increment()
            logger.error("entry moved to the dead-letter stream", metadata: [
                "entry": "\(entry.reference)", "dead_letters": "\(StreamConsumer.deadLetterStream)", "attempts": "\(tries)",
                "error": "\(reason)",
            ])
        } catch {
            logger.warning("cannot dead-letter the entry; retrying it", metadata: ["entry": "\(entry.reference)", "error": "\(error)"])
            state.retry.append(entry)
            state.retryDue = .now + settings.entryRetryDelay
        }
    }

    // MARK: Start

    /// The writer, once MariaDB answers and its tables are known; nil when stopped first.
    private func prepare(_ stopping: StopFlag) async -> BatchWriter? {
        let step = Retrier.Step(failure: "MariaDB not ready; retrying", recovery: "MariaDB ready")
        return await retrier.run(step, stopping: stopping) {
            let (schema, loads) = try await session.withConnection { connection in
                (try TableSchema.load(from: connection), try BatchWriter.serverLoadsLocalData(connection))
            }
            let missing = Entity.allCases.map(\.table).filter { schema.columns(of: $0) == nil }
                + ["message", "entity_tombstone"].filter { schema.columns(of: $0) == nil }
            guard missing.isEmpty else {
                throw PersisterError("tables missing: \(missing.joined(separator: ", ")); run `persister migrate`")
            }
            if !loads {
                logger.warning("MariaDB's local_infile is off: messages are written with INSERTs, slower than LOAD DATA LOCAL INFILE")
            }
            return BatchWriter(schema: schema, loadsMessages: loads)
        }
    }

    private func createGroups(_ stopping: StopFlag) async -> Bool {
        let step = Retrier.Step(failure: "cannot create the consumer groups; retrying")
        return await retrier.run(step, stopping: stopping) { try await consumer.createGroups() } != nil
    }
}

/// A failure with a message for the operator.
struct PersisterError: Error, Sendable, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
