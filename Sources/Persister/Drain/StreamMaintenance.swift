import Logging
import Model
import RedisClient
import ServiceLifecycle

/// Keeps the lag gauges current and trims the streams (docs/architecture.md, *Streams*): each shard
/// is cut to the oldest entry some consumer group still needs (pending, or not delivered
/// yet), never further. The bridge's `MAXLEN ~` is the hard cap behind it; when that cap
/// removes entries the persister's group had not read, this logs it and counts it.
struct StreamMaintenance: Service {
    let settings: DrainSettings
    let redis: RedisClient
    let group: String
    /// The streams' shards (the streams themselves on the plain layout).
    let shards: [String]
    /// Shard → the stream it is a shard of: the gauges are per stream, summed over the
    /// shards (pending) or their worst (lag).
    let kind: @Sendable (String) -> String
    let metrics: PersisterMetrics
    let logger: Logger

    init(
        settings: DrainSettings, redis: RedisClient, group: String, consumer: StreamConsumer, metrics: PersisterMetrics,
        logger: Logger
    ) {
        self.settings = settings
        self.redis = redis
        self.group = group
        shards = consumer.shards
        kind = { consumer.kind(ofShard: $0) }
        self.metrics = metrics
        self.logger = logger
    }

    func run() async throws {
        let clock = ContinuousClock()
        var lastTrim = clock.now
        var deletedSeen: [String: Int64] = [:]
        while !Task.isShuttingDownGracefully {
            do {
                let now = try await StreamStatus.now(redis: redis)
                let trimDue = settings.trimInterval > .zero && clock.now - lastTrim >= settings.trimInterval
                var lag: [String: Double] = [:]
                var pending: [String: Int] = [:]
                for shard in shards {
                    let status = try await StreamStatus.read(shard, redis: redis, nowMilliseconds: now)
                    if let mine = status.group(group) {
                        lag[kind(shard)] = max(lag[kind(shard)] ?? 0, mine.lagSeconds)
                        pending[kind(shard), default: 0] += mine.pending
                    }
                    noteCap(status, deletedSeen: &deletedSeen)
                    if trimDue { try await trim(status) }
                }
                for (stream, seconds) in lag { metrics.lagSeconds[stream]?.record(seconds) }
                for (stream, count) in pending { metrics.pending[stream]?.record(count) }
                if trimDue { lastTrim = clock.now }
            } catch {
                logger.debug("stream maintenance failed; next round", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: settings.monitorInterval)
        }
    }

    /// XTRIM MINID to the oldest entry any group still needs. Without a group, or when a
    /// group needs the first entry, nothing is trimmed.
    func trim(_ status: StreamStatus) async throws {
        guard !status.groups.isEmpty, status.length > 0, let last = status.lastEntryID else { return }
        var keepFrom: String?
        for group in status.groups {
            // A group that needs nothing there is keeps only entries after the last one.
            let needed = group.oldestNeededID ?? Self.successor(of: last)
            if keepFrom.map({ StreamID.less(needed, $0) }) ?? true { keepFrom = needed }
        }
        guard let keepFrom, let first = status.firstEntryID, StreamID.less(first, keepFrom) else { return }
        let reply = try await redis.send("XTRIM", status.stream, "MINID", keepFrom).throwingOnError()
        let removed = Int(reply.integer ?? 0)
        if removed > 0 {
            metrics.trimmed[kind(status.stream)]?.increment(by: removed)
            logger.debug("trimmed", metadata: ["stream": "\(status.stream)", "entries": "\(removed)", "kept_from": "\(keepFrom)"])
        }
    }

    /// The cap bit when entries newer than what the group has read were removed: the
    /// newest removed id is past the group's last delivered one. All entries still there
    /// are then unread, so the group lost `added − read − length` of them.
    private func noteCap(_ status: StreamStatus, deletedSeen: inout [String: Int64]) {
        guard let mine = status.group(group) else { return }
        let deletedTotal = status.entriesAdded - Int64(status.length)
        defer { deletedSeen[status.stream] = deletedTotal }
        guard StreamID.less(mine.lastDeliveredID, status.maxDeletedEntryID) else { return }
        let previous = deletedSeen[status.stream] ?? 0
        let lost = max(0, deletedTotal - previous)
        guard lost > 0 else { return }
        metrics.trimmedUnread[kind(status.stream)]?.increment(by: Int(lost))
        logger.error("the stream's hard cap removed entries the persister had not read: they are not in MariaDB", metadata: [
            "stream": "\(status.stream)", "entries_at_most": "\(lost)", "last_read": "\(mine.lastDeliveredID)",
            "newest_removed": "\(status.maxDeletedEntryID)", "hint": "raise STREAM_MAX_LEN or make the persister faster",
        ])
    }

    static func successor(of id: String) -> String {
        guard let (ms, seq) = StreamID.parse(id) else { return id }
        return seq == UInt64.max ? "\(ms + 1)-0" : "\(ms)-\(seq + 1)"
    }
}
