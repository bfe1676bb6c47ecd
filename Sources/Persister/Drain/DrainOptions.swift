import ArgumentParser
import ChatRuntime
import Model

/// The tuning knobs of `persister run`; each a flag, else an environment variable, else
/// the default. docs/operations.md, *Persister commands* says when to turn which.
struct DrainOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("batch-size"), help: "Most entries per stream in one batch, one MariaDB transaction (env PERSISTER_BATCH_SIZE, default 2000).")
    var batchSize: String?

    @Option(name: .customLong("batch-delay-ms"), help: "Longest wait for a batch to fill once its first entry is there, in ms (env PERSISTER_BATCH_DELAY_MS, default 50).")
    var batchDelay: String?

    @Option(name: .customLong("poll-ms"), help: "Longest blocking read while the streams are empty, in ms; also how quickly an idle persister notices SIGTERM (env PERSISTER_POLL_MS, default 1000).")
    var poll: String?

    @Option(name: .customLong("claim-idle-ms"), help: "Entries another consumer left unacknowledged this long (it died) are claimed, in ms (env PERSISTER_CLAIM_IDLE_MS, default 30000).")
    var claimIdle: String?

    @Option(name: .customLong("max-attempts"), help: "Attempts (deliveries) of an entry that keeps failing before it goes to chat:stream:deadletter (env PERSISTER_MAX_ATTEMPTS, default 5).")
    var maxAttempts: String?

    @Option(name: .customLong("trim-interval-ms"), help: "How often the streams are trimmed to the oldest entry some group still needs, in ms; 0: never (env PERSISTER_TRIM_INTERVAL_MS, default 10000).")
    var trimInterval: String?

    @Option(name: .customLong("stream-max-len"), help: "Hard cap (MAXLEN ~) of the dead-letter stream, as the bridge's of the other streams (env STREAM_MAX_LEN, default 5000000).")
    var streamMaxLength: String?

    @Option(name: .customLong("metrics-host"), help: "Address of the /metrics and /health HTTP listener (env PERSISTER_METRICS_HOST, default 127.0.0.1).")
    var metricsHost: String?

    @Option(name: .customLong("metrics-port"), help: "Port of the /metrics listener; 0: none (env PERSISTER_METRICS_PORT, default 7002).")
    var metricsPort: String?

    @Option(name: .customLong("batch-bytes"), help: "Bytes of entries (field names and values) at which a batch stops, as well as at --batch-size; bounds the persister's memory (env PERSISTER_BATCH_BYTES, default 16777216 = 16 MiB).")
    var batchBytes: String?

    init() {}

    static let batchSizeSetting = Setting("batch-size", env: "PERSISTER_BATCH_SIZE")
    static let batchDelaySetting = Setting("batch-delay-ms", env: "PERSISTER_BATCH_DELAY_MS")
    static let pollSetting = Setting("poll-ms", env: "PERSISTER_POLL_MS")
    static let claimIdleSetting = Setting("claim-idle-ms", env: "PERSISTER_CLAIM_IDLE_MS")
    static let maxAttemptsSetting = Setting("max-attempts", env: "PERSISTER_MAX_ATTEMPTS")
    static let trimIntervalSetting = Setting("trim-interval-ms", env: "PERSISTER_TRIM_INTERVAL_MS")
    static let streamMaxLengthSetting = Setting("stream-max-len", env: "STREAM_MAX_LEN")
    static let metricsHostSetting = Setting("metrics-host", env: "PERSISTER_METRICS_HOST")
    static let metricsPortSetting = Setting("metrics-port", env: "PERSISTER_METRICS_PORT")
    static let batchBytesSetting = Setting("batch-bytes", env: "PERSISTER_BATCH_BYTES")

    func resolve(environment: [String: String]) throws(ConfigurationError) -> DrainSettings {
        func number(_ setting: Setting, _ flag: String?, _ defaultValue: Int, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
            try setting.resolve(flag: flag, environment: environment, default: defaultValue) { Int($0).flatMap { range.contains($0) ? $0 : nil } }
        }
        var settings = DrainSettings()
        settings.batchSize = try number(Self.batchSizeSetting, batchSize, settings.batchSize, 1...100_000)
        settings.batchDelay = .milliseconds(try number(Self.batchDelaySetting, batchDelay, 50, 0...60_000))
        settings.poll = .milliseconds(try number(Self.pollSetting, poll, 1000, 1...60_000))
        settings.claimIdle = .milliseconds(try number(Self.claimIdleSetting, claimIdle, 30_000, 1...86_400_000))
        settings.maxAttempts = try number(Self.maxAttemptsSetting, maxAttempts, settings.maxAttempts, 1...1000)
        settings.trimInterval = .milliseconds(try number(Self.trimIntervalSetting, trimInterval, 10_000, 0...86_400_000))
        settings.deadLetterCap = try number(Self.streamMaxLengthSetting, streamMaxLength, StreamName.defaultHardCap, 1...Int(Int32.max))
        settings.metricsHost = try Self.metricsHostSetting.resolve(flag: metricsHost, environment: environment, default: "127.0.0.1") { $0.isEmpty ? nil : $0 }
        settings.metricsPort = try number(Self.metricsPortSetting, metricsPort, 7002, 0...65535)
        settings.batchBytes = try number(Self.batchBytesSetting, batchBytes, settings.batchBytes, 1024...(1 << 34))
        return settings
    }
}

/// The validated knobs of `persister run`.
struct DrainSettings: Sendable, Hashable {
    var batchSize = 2000
    var batchDelay: Duration = .milliseconds(50)
    var poll: Duration = .seconds(1)
    var claimIdle: Duration = .seconds(30)
    var maxAttempts = 5
    var trimInterval: Duration = .seconds(10)
    var deadLetterCap = StreamName.defaultHardCap
    var metricsHost = "127.0.0.1"
    var metricsPort = 7002
    /// A batch stops once its entries hold this many bytes (`BatchBudget`).
    var batchBytes = 16 << 20
    /// Between two attempts of an entry that failed on its data.
    var entryRetryDelay: Duration = .milliseconds(200)
    /// How often the lag gauges are refreshed.
    var monitorInterval: Duration = .seconds(1)

    /// How often to look for a dead consumer's entries: a fraction of the idle time.
    var claimInterval: Duration { min(max(claimIdle / 2, .milliseconds(100)), .seconds(10)) }
}
