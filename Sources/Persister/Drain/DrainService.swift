import Logging
import MariaDB
import Model
import RedisClient
import ServiceLifecycle

/// `persister run`'s work: reads both streams with the consumer group, writes each batch
/// in one MariaDB transaction and acknowledges it after the commit.
///
/// Failures (README *Persister*): MariaDB unreachable → the batch is retried with
/// back-off, nothing acknowledged. A batch failing on its data → written again entry by
/// entry, so that one bad entry holds up only itself; an entry failing `maxAttempts`
/// times → dead-letter stream and acknowledged. A consumer that died → its entries are
/// claimed after `claimIdle`. SIGTERM → the batch in hand is finished (written and
/// acknowledged, unless MariaDB is down: then it stays pending for the next run) and the
/// service returns.
struct DrainService: Service {
    let settings: DrainSettings
    let session: MariaDBSession
    let consumer: StreamConsumer
    let metrics: PersisterMetrics
    var backoff = ReconnectBackoff()
    let logger: Logger

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
            "consumer": "\(consumer.consumer)", "group": "\(consumer.group)", "batch_size": "\(settings.batchSize)",
            "batch_delay_ms": "\(settings.batchDelay.milliseconds)",
        ])
        var state = LoopState()
        let clock = ContinuousClock()
        var lastClaim = clock.now - settings.claimInterval
        while !stopping.isSet {
            var batch: [StreamEntry] = []
            do {
                if !state.retry.isEmpty, clock.now >= state.retryDue {
                    batch = state.retry
                    state.retry = []
                } else if clock.now - lastClaim >= settings.claimInterval {
                    lastClaim = clock.now
                    batch = try await consumer.claim(minIdle: settings.claimIdle, count: settings.batchSize, cursors: &state.claimCursors)
                    if !batch.isEmpty {
                        metrics.claimed.increment(by: batch.count)
                        logger.notice("claimed entries another consumer left pending", metadata: ["entries": "\(batch.count)"])
                    }
                }
                if batch.isEmpty {
                    batch = try await readBatch(stopping, retryPending: !state.retry.isEmpty)
                }
            } catch {
                state.redisFailures += 1
                logger.warning("cannot read the streams; retrying", metadata: ["error": "\(error)"])
                await stopping.sleep(for: backoff.delay(afterAttempt: state.redisFailures))
                continue
            }
            state.redisFailures = 0
            if !batch.isEmpty {
                await persist(batch, writer: writer, state: &state, stopping: stopping)
            }
        }
    }

    /// What the loop carries from one batch to the next.
    private struct LoopState {
        /// Entries that failed on their data, retried after `entryRetryDelay`.
        var retry: [StreamEntry] = []
        var retryDue = ContinuousClock.now
        /// Failed attempts per entry (`stream id`).
        var attempts: [String: Int] = [:]
        var claimCursors: [String: String] = [:]
        var redisFailures = 0
    }

    // MARK: Reading

    /// Up to `batchSize` entries: waits up to `poll` for the first, then `batchDelay` for
    /// more. With entries waiting for a retry it does not block.
    private func readBatch(_ stopping: StopFlag, retryPending: Bool) async throws -> [StreamEntry] {
        let block = retryPending ? settings.entryRetryDelay : settings.poll
        var batch = try await consumer.read(count: settings.batchSize, block: block)
        if !batch.isEmpty && (batch.count < settings.batchSize) && (settings.batchDelay > .zero) && !stopping.isSet {
            await stopping.sleep(for: settings.batchDelay)
            batch += try await consumer.read(count: settings.batchSize - batch.count, block: .zero)
        }
        return batch
    }

    // MARK: Writing

    private enum WriteOutcome {
        case committed
        /// The entries themselves failed (the transaction was rolled back).
        case failed(String)
        /// MariaDB unreachable and a shutdown requested: nothing written.
        case stopped
    }

    private func persist(_ batch: [StreamEntry], writer: BatchWriter, state: inout LoopState, stopping: StopFlag) async {
        var decoded: [StreamEntry] = []
        var items: [PersistableEntry] = []
        var failed: [(StreamEntry, String)] = []
        decoded.reserveCapacity(batch.count)
        items.reserveCapacity(batch.count)
        for entry in batch {
            do {
                items.append(try PersistableEntry(entry))
                decoded.append(entry)
            } catch {
                failed.append((entry, error.description))
            }
        }

        var committed: [StreamEntry] = []
        if !items.isEmpty {
            switch await write(items, writer: writer, stopping: stopping) {
            case .committed:
                committed = decoded
            case .stopped:
                return
            case .failed(let reason) where items.count == 1:
                failed.append((decoded[0], reason))
            case .failed(let reason):
                metrics.splitRetries.increment()
                logger.warning("a batch failed on its data; writing it entry by entry", metadata: [
                    "entries": "\(items.count)", "error": "\(reason)",
                ])
                for (entry, item) in zip(decoded, items) {
                    switch await write([item], writer: writer, stopping: stopping) {
                    case .committed: committed.append(entry)
                    case .failed(let reason): failed.append((entry, reason))
                    case .stopped: break
                    }
                    if stopping.isSet { break }
                }
            }
        }
        if !committed.isEmpty {
            await acknowledge(committed, stopping: stopping)
            metrics.batchSize.record(committed.count)
            for entry in committed {
                metrics.entries[entry.stream]?.increment()
                state.attempts[entry.reference] = nil
            }
        }
        for (entry, reason) in failed {
            await fail(entry, reason: reason, state: &state)
        }
    }

    /// One transaction; retried with back-off while MariaDB is unreachable.
    private func write(_ items: [PersistableEntry], writer: BatchWriter, stopping: StopFlag) async -> WriteOutcome {
        var attempt = 0
        let clock = ContinuousClock()
        while true {
            let start = clock.now
            do {
                try await session.withConnection { connection in
                    try connection.transaction { connection in try writer.write(items, on: connection) }
                }
                metrics.commitTime.record(duration: start.duration(to: clock.now))
                if attempt > 0 { logger.notice("MariaDB is back; batch written", metadata: ["attempts": "\(attempt + 1)"]) }
                return .committed
            } catch let error as MariaDBError where Self.isUnavailable(error) {
                attempt += 1
                metrics.mariaDBRetries.increment()
                let delay = backoff.delay(afterAttempt: attempt)
                if attempt == 1 || attempt % 10 == 0 {
                    logger.warning("MariaDB unavailable; retrying the batch, nothing acknowledged", metadata: [
                        "error": "\(error)", "attempt": "\(attempt)", "retry_in_ms": "\(delay.milliseconds)",
                    ])
                }
                if stopping.isSet { return .stopped }
                await stopping.sleep(for: delay)
                if stopping.isSet { return .stopped }
            } catch {
                return .failed("\(error)")
            }
        }
    }

    /// Errors that say nothing about the entries: the server is down, restarting,
    /// overloaded, or not migrated yet. Anything else is the entries' fault.
    static func isUnavailable(_ error: MariaDBError) -> Bool {
        if error.isConnectionLost || error.isTransient || error.code.isClientError { return true }
        switch error.code.rawValue {
        case 1040, 1041, 1043, 1044, 1045, 1049, 1053, 1077, 1146, 1290, 1927, 1969, 4031: return true
        default: return false
        }
    }

    private func acknowledge(_ entries: [StreamEntry], stopping: StopFlag) async {
        var attempt = 0
        while true {
            do {
                try await consumer.acknowledge(entries)
                return
            } catch {
                attempt += 1
                // Written but not acknowledged: another delivery writes them again, which
                // changes nothing. Still worth a few tries, to spare that work.
                logger.warning("cannot acknowledge written entries; retrying", metadata: ["error": "\(error)", "entries": "\(entries.count)"])
                if stopping.isSet && attempt >= 3 { return }
                await stopping.sleep(for: backoff.delay(afterAttempt: attempt))
            }
        }
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
        var attempt = 0
        while !stopping.isSet {
            do {
                let schema = try await session.withConnection { try TableSchema.load(from: $0) }
                let missing = Entity.allCases.map(\.table).filter { schema.columns(of: $0) == nil }
                    + ["message", "entity_tombstone"].filter { schema.columns(of: $0) == nil }
                guard missing.isEmpty else {
                    throw PersisterError("tables missing: \(missing.joined(separator: ", ")); run `persister migrate`")
                }
                if attempt > 0 { logger.notice("MariaDB ready", metadata: ["attempts": "\(attempt + 1)"]) }
                return BatchWriter(schema: schema)
            } catch {
                attempt += 1
                let delay = backoff.delay(afterAttempt: attempt)
                logger.warning("MariaDB not ready; retrying", metadata: ["error": "\(error)", "retry_in_ms": "\(delay.milliseconds)"])
                await stopping.sleep(for: delay)
            }
        }
        return nil
    }

    private func createGroups(_ stopping: StopFlag) async -> Bool {
        var attempt = 0
        while !stopping.isSet {
            do {
                try await consumer.createGroups()
                return true
            } catch {
                attempt += 1
                logger.warning("cannot create the consumer groups; retrying", metadata: ["error": "\(error)"])
                await stopping.sleep(for: backoff.delay(afterAttempt: attempt))
            }
        }
        return false
    }
}

/// A failure with a message for the operator.
struct PersisterError: Error, Sendable, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
