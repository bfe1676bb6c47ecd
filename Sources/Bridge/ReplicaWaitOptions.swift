import ArgumentParser
import ChatRuntime
import RedisClient

/// `--redis-wait-replicas` and its timeout: `WAIT` after each send script (between two
/// partitions after the sender's and the recipient's steps, `SingleSendSteps`), so that an
/// accepted message is on that many replicas before the sender hears so (docs/benchmarks.md,
/// *Redis Cluster*: what a failover loses without it, and its price).
struct ReplicaWaitOptions: ParsableArguments {
    @Option(name: .customLong("redis-wait-replicas"), help: "Replicas that must hold an accepted message before the sender hears so (WAIT after each send script; between two partitions after the sender's and the recipient's steps); 0: none, Redis' asynchronous replication (env REDIS_WAIT_REPLICAS, default 0).")
    var replicas: String?

    @Option(name: .customLong("redis-wait-timeout-ms"), help: "How long a send waits for --redis-wait-replicas; the message is accepted either way and a short wait counted in chat_redis_wait_short_total (env REDIS_WAIT_TIMEOUT_MS, default 100).")
    var timeoutMilliseconds: String?

    static let replicasSetting = Setting("redis-wait-replicas", env: "REDIS_WAIT_REPLICAS")
    static let timeoutSetting = Setting("redis-wait-timeout-ms", env: "REDIS_WAIT_TIMEOUT_MS")

    func resolve(environment: [String: String]) throws(ConfigurationError) -> ReplicaAcknowledgement? {
        let replicas = try Self.replicasSetting.resolve(flag: replicas, environment: environment, default: 0) {
            Int($0).flatMap { (0...16).contains($0) ? $0 : nil }
        }
        let timeout = try Self.timeoutSetting.resolve(flag: timeoutMilliseconds, environment: environment, default: 100) {
            Int($0).flatMap { (1...60_000).contains($0) ? $0 : nil }
        }
        return replicas == 0 ? nil : ReplicaAcknowledgement(replicas: replicas, timeoutMilliseconds: timeout)
    }
}
