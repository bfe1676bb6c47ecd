import Logging
import Model
import RedisClient
import Synchronization

/// The persister's side of the consumer group protocol on its streams: reading,
/// claiming a dead consumer's entries, acknowledging, dead-lettering.
///
/// On the plain layout the three streams are read by one XREADGROUP, as they always were.
/// On a tagged layout every partition has its shard of each (docs/streams.md, *Shards*)
/// and one XREADGROUP reads one partition's three (one slot): a read is a round of them
/// over every partition, not blocking; only when a whole round found nothing does it
/// block, on one partition at a time in turn and at most `shardWait`, before the next
/// round (a blocking command ties its connection, so there is one, on the reader).
struct StreamConsumer: Sendable {
    /// The two public streams and the private one with the whole `user` rows
    /// (docs/architecture.md, *Streams*): the names metrics and logs group shards by.
    static let streams = RedisKeys.shardedStreams
    /// Entries that kept failing, with the reason; see the docs/operations.md, *Persister
    /// commands*. One stream, not sharded: written only here and rarely, read by the
    /// console and `persister status` (docs/streams.md, *Shards*).
    static let deadLetterStream = StreamName.deadLetters
    /// The longest wait on one partition's shards while another's may have entries.
    static let defaultShardWait: Duration = .milliseconds(50)

    let group: String
    let consumer: String
    /// Blocking reads wait on a connection of their own, so they hold up nothing else.
    let reader: RedisClient
    let redis: RedisClient
    let keys: RedisKeys
    /// Partition by partition, its shards.
    let partitions: [StreamShards]
    /// The longest block on one partition while the others go unread (tagged layout).
    let shardWait: Duration
    /// Shard → the stream it is a shard of.
    private let kinds: [String: String]
    private let turns = Turns()
    private let failing = FailingPartitions()
    let logger: Logger

    init(
        group: String, consumer: String, reader: RedisClient, redis: RedisClient, keys: RedisKeys = .plain,
        shardWait: Duration = Self.defaultShardWait, logger: Logger = Logger(label: "persister")
    ) {
        self.group = group
        self.consumer = consumer
        self.reader = reader
        self.redis = redis
        self.keys = keys
        self.shardWait = shardWait
        partitions = keys.allStreamShards
        var kinds: [String: String] = [:]
        for shards in partitions {
            for stream in Self.streams {
                if let shard = shards.shard(of: stream) { kinds[shard] = stream }
            }
        }
        self.kinds = kinds
        self.logger = logger
    }

    /// Every shard, partition by partition (the three streams themselves when plain).
    var shards: [String] { partitions.flatMap(\.all) }

    /// The stream `shard` is a shard of (itself when it is none).
    func kind(ofShard shard: String) -> String { kinds[shard] ?? shard }

    /// Creates the group on each shard (and the shard) if missing; the group starts at
    /// the beginning, so a backlog written before the first run is drained.
    func createGroups() async throws {
        for stream in shards {
            let reply = try await redis.send("XGROUP", "CREATE", stream, group, "0", "MKSTREAM")
            if let message = reply.errorMessage, !message.hasPrefix("BUSYGROUP") {
                throw RedisError.server(message)
            }
        }
    }

    /// New entries, waiting up to `block` for the first (zero: not at all). Plain: up to
    /// `count` per stream. Tagged: a round reads at most `count` in all, shared out
    /// over the partitions, so a batch keeps its budget; what a wait on one partition
    /// returns is up to `count` per shard, as a plain read. The waits end early once
    /// `stopping` is set.
    func read(count: Int, block: Duration, stopping: StopFlag? = nil) async throws -> [StreamEntry] {
        guard keys.layout.isTagged else {
            return try await read(partitions[0], count: count, block: block).entries
        }
        let clock = ContinuousClock()
        let deadline = clock.now + block
        while true {
            let entries = try await round(count: count)
            let left = clock.now.duration(to: deadline)
            if !entries.isEmpty || left <= .zero || stopping?.isSet == true { return entries }
            let partition = partitions[turns.next(of: partitions.count)]
            let wait = min(left, shardWait)
            do {
                let waited = try await read(partition, count: count, block: wait)
                if !waited.entries.isEmpty { return waited.entries }
            } catch {
                // Its primary failing over: the round reads the others; this wait is spent idle.
                failing.failed(partition.partition, error: error, logger: logger)
                try? await Task.sleep(for: wait)
            }
        }
    }

    /// One XREADGROUP over every partition without blocking (concurrent: on a cluster
    /// each goes to its primary), `count` shared out among them (never more in all: a
    /// batch keeps its budget), then again over those that gave all they were asked and
    /// those left out (fewer entries asked than partitions), until `count`. The first
    /// partition asked turns from round to round. A partition that cannot be read (its
    /// primary failing over) is left for the next round, so the others go on being
    /// drained; only when none can be read does it throw.
    private func round(count: Int) async throws -> [StreamEntry] {
        let first = turns.nextRound(of: partitions.count)
        var open = Array(partitions[first...] + partitions[..<first])
        var entries: [StreamEntry] = []
        while !open.isEmpty, entries.count < count {
            let left = count - entries.count
            let asked = Array(open.prefix(left))
            let shares = Self.shares(of: left, among: asked.count)
            let reads = await withTaskGroup(of: (Int, Result<PartitionRead, any Error>).self) { group in
                for (index, partition) in asked.enumerated() {
                    group.addTask {
                        do {
                            return (index, .success(try await read(partition, count: shares[index], block: .zero)))
                        } catch {
                            return (index, .failure(error))
                        }
                    }
                }
                var reads = [Result<PartitionRead, any Error>?](repeating: nil, count: asked.count)
                for await (index, read) in group { reads[index] = read }
                return reads
            }
            var more: [StreamShards] = []
            var firstError: (any Error)?
            for (partition, result) in zip(asked, reads) {
                switch result {
                case .success(let read)?:
                    failing.recovered(partition.partition, logger: logger)
                    entries += read.entries
                    if read.mayHoldMore { more.append(partition) }
                case .failure(let error)?:
                    failing.failed(partition.partition, error: error, logger: logger)
                    firstError = firstError ?? error
                case nil:
                    break
                }
            }
            // Nothing could be read: Redis is down (the drain retries with back-off).
            if let firstError, entries.isEmpty, reads.allSatisfy({ if case .failure? = $0 { true } else { false } }) {
                throw firstError
            }
            open = more + open.dropFirst(asked.count)
        }
        return entries
    }

    /// `count` in `ways` parts as even as can be, the larger first (`ways` ≤ `count`).
    static func shares(of count: Int, among ways: Int) -> [Int] {
        (0..<ways).map { count / ways + ($0 < count % ways ? 1 : 0) }
    }

    /// What one partition's read returned, and whether a shard gave all it was asked.
    private struct PartitionRead: Sendable {
        var entries: [StreamEntry] = []
        var mayHoldMore = false
    }

    /// One XREADGROUP over a partition's three shards (one slot), up to `count` each.
    /// Blocking ones go on the reader's connection, the others on the shared ones.
    private func read(_ partition: StreamShards, count: Int, block: Duration) async throws -> PartitionRead {
        var arguments: [any RedisArgument] = ["GROUP", group, consumer, "COUNT", String(count)]
        if block > .zero { arguments += ["BLOCK", String(max(1, block.milliseconds))] }
        let streams = partition.all
        arguments += ["STREAMS"] + streams.map { $0 as any RedisArgument } + streams.map { _ in ">" as any RedisArgument }
        // Plain: the reader always, as before the shards. Tagged: only a blocking read
        // ties the reader, the round's reads share the pool.
        let client = !keys.layout.isTagged || block > .zero ? reader : redis
        // Flat: a full batch is thousands of entries, read in place rather than as a tree.
        let reply = try await client.sendFlat(RedisCommand("XREADGROUP", arguments)).throwingOnError()
        var read = PartitionRead()
        for streamReply in reply.elements(of: reply.root) {
            var pair = reply.elements(of: streamReply).makeIterator()
            guard let name = pair.next(), let list = pair.next(), let stream = reply.string(at: name) else { continue }
            let entries = StreamEntry.entries(of: stream, kind: kind(ofShard: stream), in: reply, at: list)
            if reply.elements(of: list).count >= count { read.mayHoldMore = true }
            read.entries += entries
        }
        return read
    }

    /// Takes over entries other consumers (dead ones, or this one before a restart)
    /// left pending longer than `minIdle`, shard by shard until about `count`, starting
    /// where the last call stopped; `cursors` carries each shard's scan position from
    /// call to call.
    func claim(minIdle: Duration, count: Int, cursors: inout [String: String]) async throws -> [StreamEntry] {
        var entries: [StreamEntry] = []
        let shards = shards
        let first = keys.layout.isTagged ? turns.nextClaim(of: shards.count) : 0
        for offset in shards.indices {
            let stream = shards[(first + offset) % shards.count]
            // Plain: every stream, as before the shards. Tagged: the batch's budget.
            let ask = keys.layout.isTagged ? count - entries.count : count
            guard ask > 0 else { break }
            let start = cursors[stream] ?? "0-0"
            let reply = try await redis.sendFlat(RedisCommand(
                "XAUTOCLAIM", stream, group, consumer, String(max(0, minIdle.milliseconds)), start, "COUNT", String(ask)
            )).throwingOnError()
            var parts = reply.elements(of: reply.root).makeIterator()
            guard let cursor = parts.next(), let list = parts.next() else { continue }
            cursors[stream] = reply.string(at: cursor) ?? "0-0"
            entries += StreamEntry.entries(of: stream, kind: kind(ofShard: stream), in: reply, at: list)
        }
        return entries
    }

    /// Acknowledges the entries (one XACK per shard, pipelined; on a cluster each goes to
    /// its shard's primary).
    func acknowledge(_ entries: [StreamEntry]) async throws {
        var byStream: [String: [String]] = [:]
        for entry in entries { byStream[entry.stream, default: []].append(entry.id) }
        let commands = byStream.map { stream, ids in
            RedisCommand("XACK", [stream, group] + ids.map { $0 as any RedisArgument })
        }
        for reply in try await redis.pipeline(commands) { try reply.throwingOnError() }
    }

    /// How many times Redis has delivered the entry (XREADGROUP, XAUTOCLAIM); 0 when it
    /// is not pending any more.
    func deliveries(of entry: StreamEntry) async throws -> Int {
        let reply = try await redis.send("XPENDING", entry.stream, group, entry.id, entry.id, "1")
        guard let first = reply.array?.first?.array, first.count >= 4 else { return 0 }
        return Int(first[3].integer ?? 0)
    }

    /// Moves the entry to the dead-letter stream with the reason and acknowledges it.
    /// Plain: in one MULTI, so it is never both lost and acknowledged, nor dead-lettered
    /// twice by a crash between the two. Tagged: the dead-letter stream is on a slot of its
    /// own, so the XADD comes first and the XACK after it: never lost; a crash between
    /// them dead-letters it again after the retries (a second dead letter of the same
    /// entry: replaying both writes it once, the writes being idempotent).
    func deadLetter(_ entry: StreamEntry, error: String, attempts: Int, hardCap: Int) async throws {
        var fields: [any RedisArgument] = [
            Self.deadLetterStream, "MAXLEN", "~", String(hardCap), "*",
            "stream", entry.stream, "entry", entry.id, "attempts", String(attempts), "error", error,
            "consumer", consumer,
        ]
        for (field, value) in entry.fields.dictionary.sorted(by: { $0.key < $1.key }) {
            fields.append("field." + field)
            fields.append(value)
        }
        let add = RedisCommand("XADD", fields)
        let acknowledge = RedisCommand("XACK", entry.stream, group, entry.id)
        guard !keys.layout.isTagged else {
            try await redis.send(add).throwingOnError()
            try await redis.send(acknowledge).throwingOnError()
            return
        }
        let replies = try await redis.pipeline([RedisCommand("MULTI"), add, acknowledge, RedisCommand("EXEC")])
        for reply in replies { try reply.throwingOnError() }
        if let results = replies.last?.array {
            for reply in results { try reply.throwingOnError() }
        }
    }
}

/// The partitions whose last read failed: logged when one starts failing and when it is
/// back, not at every round in between.
private final class FailingPartitions: Sendable {
    private let partitions = Mutex<Set<Int>>([])

    func failed(_ partition: Int, error: any Error, logger: Logger) {
        guard partitions.withLock({ $0.insert(partition).inserted }) else { return }
        logger.warning("cannot read a partition's shards; reading the others meanwhile", metadata: [
            "partition": "\(partition)", "error": "\(error)",
        ])
    }

    func recovered(_ partition: Int, logger: Logger) {
        guard partitions.withLock({ !$0.isEmpty && $0.remove(partition) != nil }) else { return }
        logger.notice("a partition's shards can be read again", metadata: ["partition": "\(partition)"])
    }
}

/// Whose turn it is: the partition a blocking read waits on, the one a round asks first,
/// the shard a claim starts at.
private final class Turns: Sendable {
    private let wait = Atomic<Int>(0)
    private let round = Atomic<Int>(0)
    private let claim = Atomic<Int>(0)

    func next(of count: Int) -> Int { wait.wrappingAdd(1, ordering: .relaxed).oldValue % count }
    func nextRound(of count: Int) -> Int { round.wrappingAdd(1, ordering: .relaxed).oldValue % count }
    func nextClaim(of count: Int) -> Int { claim.wrappingAdd(1, ordering: .relaxed).oldValue % count }
}
