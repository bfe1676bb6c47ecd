import ArgumentParser
import Logging
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

    public init() {}

    public static let redisURLSetting = Setting("redis-url", env: "REDIS_URL")
    public static let redisPoolSizeSetting = Setting("redis-pool-size", env: "REDIS_POOL_SIZE")
    public static let redisTimeoutSetting = Setting("redis-timeout-ms", env: "REDIS_TIMEOUT_MS")
    public static let nodeIDSetting = Setting("node-id", env: "NODE_ID")
    public static let logLevelSetting = Setting("log-level", env: "LOG_LEVEL")
    public static let redisAllowEvictionSetting = Setting("redis-allow-eviction", env: "REDIS_ALLOW_EVICTION")

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

        return CommonSettings(redis: redis, nodeID: node, logLevel: level, redisAllowsEviction: allowEviction)
    }
}

/// The validated common settings.
public struct CommonSettings: Sendable {
    public var redis: RedisConfiguration
    public var nodeID: String
    public var logLevel: Logger.Level
    /// Start even when Redis may evict keys (``RedisEvictionCheck``).
    public var redisAllowsEviction = false
}
