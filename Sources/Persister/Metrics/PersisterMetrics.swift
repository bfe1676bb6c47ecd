import Metrics
import Model
import Prometheus

/// What `persister run` counts and measures (`/metrics`, docs/operations.md, *Persister commands*).
struct PersisterMetrics: Sendable {
    /// Entries written and acknowledged, per stream (`rate()` gives entries per second).
    let entries: [String: Metrics.Counter]
    /// Entries per committed batch.
    let batchSize: Metrics.Recorder
    /// Bytes of entries (field names and values) per committed batch (`--batch-bytes`).
    let batchBytes: Metrics.Recorder
    /// Time from the first statement of a batch to its commit.
    let commitTime: Metrics.Timer
    /// Batches written again: MariaDB unreachable (`reason="mariadb"`), a batch that failed
    /// on its data and was written entry by entry (`reason="split"`), an entry retried
    /// after failing (`reason="entry"`).
    let mariaDBRetries: Metrics.Counter
    let splitRetries: Metrics.Counter
    let entryRetries: Metrics.Counter
    let deadLetters: Metrics.Counter
    let claimed: Metrics.Counter
    /// Per stream: age of the oldest entry the group has not acknowledged (0: none), and
    /// entries read but not acknowledged.
    let lagSeconds: [String: Metrics.Gauge]
    let pending: [String: Metrics.Gauge]
    /// Entries removed by trimming after every group acknowledged them, and those the
    /// hard cap (`MAXLEN ~` of the bridge) removed before this group read them.
    let trimmed: [String: Metrics.Counter]
    let trimmedUnread: [String: Metrics.Counter]

    init() {
        func perStream<T>(_ make: (String) -> T) -> [String: T] {
            Dictionary(uniqueKeysWithValues: StreamConsumer.streams.map { ($0, make($0)) })
        }
        entries = perStream { Metrics.Counter(label: "persister_entries_total", dimensions: [("stream", $0)]) }
        batchSize = Metrics.Recorder(label: "persister_batch_size")
        batchBytes = Metrics.Recorder(label: "persister_batch_bytes")
        commitTime = Metrics.Timer(label: "persister_commit_seconds")
        mariaDBRetries = Metrics.Counter(label: "persister_retries_total", dimensions: [("reason", "mariadb")])
        splitRetries = Metrics.Counter(label: "persister_retries_total", dimensions: [("reason", "split")])
        entryRetries = Metrics.Counter(label: "persister_retries_total", dimensions: [("reason", "entry")])
        deadLetters = Metrics.Counter(label: "persister_dead_letters_total")
        claimed = Metrics.Counter(label: "persister_claimed_total")
        lagSeconds = perStream { Metrics.Gauge(label: "persister_lag_seconds", dimensions: [("stream", $0)]) }
        pending = perStream { Metrics.Gauge(label: "persister_pending_entries", dimensions: [("stream", $0)]) }
        trimmed = perStream { Metrics.Counter(label: "persister_trimmed_total", dimensions: [("stream", $0)]) }
        trimmedUnread = perStream { Metrics.Counter(label: "persister_trimmed_unread_total", dimensions: [("stream", $0)]) }
    }

    /// The Prometheus backend with buckets that suit these metrics.
    static func bootstrap(maximumBatchSize: Int, batchBytes: Int = DrainSettings().batchBytes) -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        var buckets: [Double] = [1]
        while let last = buckets.last, last < Double(maximumBatchSize) { buckets.append(min(last * 4, Double(maximumBatchSize))) }
        factory.valueHistogramBuckets["persister_batch_size"] = buckets
        // Powers of 4 up to the budget, then 1.25, 2 and 4 times it: how far batches go over.
        var byteBuckets: [Double] = [1024]
        while let last = byteBuckets.last, last * 4 < Double(batchBytes) { byteBuckets.append(last * 4) }
        byteBuckets += [1, 1.25, 2, 4].map { Double(batchBytes) * $0 }.filter { $0 > byteBuckets.last ?? 0 }
        factory.valueHistogramBuckets["persister_batch_bytes"] = byteBuckets
        factory.durationHistogramBuckets["persister_commit_seconds"] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }
}
