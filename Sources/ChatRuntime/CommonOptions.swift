import ArgumentParser
import Logging
import Model
import RedisClient

/// Options both executables take. Each falls back to an environment variable, then to
/// a default; `resolve()` turns them into validated values or one `ConfigurationError`.
public struct CommonOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("redis-url"), help: "Redis address: redis://[user:password@]host:port/db, unix:///path?db=N or redis-cluster://[user:password@]host:port[,host:port...] (env REDIS_URL, default redis://127.0.0.1:6379/0).")
    public var redisURL: String?

    @Option(name: .customLong("redis-pool-size"), help: "Connections in the Redis pool (env REDIS_POOL_SIZE, default 4).")
    public var redisPoolSize: String?

    @Option(name: .customLong("redis-timeout-ms"), help: "Timeout of every Redis command in milliseconds (env REDIS_TIMEOUT_MS, default 2000).")
    public var redisTimeoutMilliseconds: String?

    @Option(name: .customLong("node-id"), help: "Name of this process among its peers; letters, digits, '-', '_', '.' (env NODE_ID, default: unique per process).")
    public var nodeID: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env LOG_LEVEL, default info).")
    public var logLevel: String?

    @Option(name: .customLong("redis-allow-eviction"), help: "true: start even when Redis' maxmemory-policy is not noeviction, with a loud warning; evicted counters, indexes or queues lose data (env REDIS_ALLOW_EVICTION, default false).")
    public var redisAllowEviction: String?

    @Option(name: .customLong("redis-partitions"), help: "Partitions of the users' and groups' keys, each on one hash slot with its own stream shards: 'plain' (one Redis, the names of docs/data.md) or 1 to 1024 (env REDIS_PARTITIONS, default plain for redis://, 12 for redis-cluster://). A deployment constant: every process must agree.")
    public var redisPartitions: String?

    public init() {}

    public static let redisURLSetting = Setting("redis-url", env: "REDIS_URL")
    public static let redisPoolSizeSetting = Setting("redis-pool-size", env: "REDIS_POOL_SIZE")
    public static let redisTimeoutSetting = Setting("redis-timeout-ms", env: "REDIS_TIMEOUT_MS")
    public static let nodeIDSetting = Setting("node-id", env: "NODE_ID")
    public static let logLevelSetting = Setting("log-level", env: "LOG_LEVEL")
    public static let redisAllowEvictionSetting = Setting("redis-allow-eviction", env: "REDIS_ALLOW_EVICTION")
    public static let redisPartitionsSetting = Setting("redis-partitions", env: "REDIS_PARTITIONS")
    /// A cluster's default: divides evenly over 1, 2, 3, 4, 6 and 12 primaries.
    public static let defaultClusterPartitions = 12

    public func resolve(environment: [String: String]) throws(ConfigurationError) -> CommonSettings {
        var redis = try Self.redisURLSetting.resolve(
            flag: redisURL, environment: environment,
            default: RedisConfiguration(endpoint: .tcp(host: "127.0.0.1", port: 6379))
        ) { text in
            do { return try RedisConfiguration(url: text) } catch { throw Self.redisURLSetting.fail("\(error)") }
        }
        redis.poolSize = try Self.redisPoolSizeSetting.resolve(
            flag: redisPoolSize, environment: environment, default: redis.poolSize
        ) { Int($0).flatMap { (1...256).contains($0) ? $0 : nil } }
        let timeout = try Self.redisTimeoutSetting.resolve(
            flag: redisTimeoutMilliseconds, environment: environment, default: 2000
        ) { Int64($0).flatMap { (1...600_000).contains($0) ? $0 : nil } }
        redis.commandTimeout = .milliseconds(timeout)

        let node = try Self.nodeIDSetting.resolve(
            flag: nodeID, environment: environment, default: NodeIdentity.generate()
        ) { NodeIdentity.isValid($0) ? $0 : nil }

        let level = try Self.logLevelSetting.resolve(
            flag: logLevel, environment: environment, default: Logger.Level.info
        ) { Logger.Level(rawValue: $0.lowercased()) }

        let allowEviction = try Self.redisAllowEvictionSetting.resolve(
            flag: redisAllowEviction, environment: environment, default: false
        ) { ["true": true, "1": true, "false": false, "0": false][$0.lowercased()] }

        let isCluster: Bool
        switch redis.topology {
        case .single: isCluster = false
        case .cluster: isCluster = true
        }
        let layout = try Self.redisPartitionsSetting.resolve(
            flag: redisPartitions, environment: environment,
            default: isCluster ? KeyLayout(partitionTags: PartitionTags.evenlySpaced(count: Self.defaultClusterPartitions)) : .plain
        ) { text -> KeyLayout? in
            if text == "plain" { return isCluster ? nil : .plain }
            guard let count = Int(text), (1...1024).contains(count) else { return nil }
            return KeyLayout(partitionTags: PartitionTags.evenlySpaced(count: count))
        }

        return CommonSettings(
            redis: redis, nodeID: node, logLevel: level, redisAllowsEviction: allowEviction, keys: RedisKeys(layout: layout)
        )
    }
}

/// The validated common settings.
public struct CommonSettings: Sendable {
    public var redis: RedisConfiguration
    public var nodeID: String
    public var logLevel: Logger.Level
    /// Start even when Redis may evict keys (``RedisEvictionCheck``).
    public var redisAllowsEviction = false
    /// The names of the keys in the deployment's layout (``KeyLayoutCheck``).
    public var keys = RedisKeys.plain
}
