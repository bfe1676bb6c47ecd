import ArgumentParser
import ChatRuntime
import Logging
import Model
import RedisClient

/// `--force` and `--heartbeat-ms` of the commands that must not run beside live bridges
/// (`hydrate`, `import-askanswers`): a bridge whose heartbeat in `chat:nodes` is younger
/// than three heartbeats (the bridges' own dead-after window) refuses them.
struct BridgeGuardOptions: ParsableArguments, Sendable {
    @Flag(name: .customLong("force"), help: "Run even while bridge processes are alive (their heartbeat in chat:nodes is fresh): a change they make meanwhile may be undone.")
    var force = false

    @Option(name: .customLong("heartbeat-ms"), help: "The bridges' heartbeat, in ms: a bridge silent for three of them counts as stopped (env HEARTBEAT_MS, default 5000, as the bridge's).")
    var heartbeat: String?

    init() {}

    static let heartbeatSetting = Setting("heartbeat-ms", env: "HEARTBEAT_MS")

    /// Exit status of a refusal (bridges alive): not 1, so that a script tells it from a failure.
    static let refusedExitCode: Int32 = 3

    func deadAfterMilliseconds(environment: [String: String]) throws(ConfigurationError) -> Int64 {
        let heartbeat = try Self.heartbeatSetting.resolve(flag: heartbeat, environment: environment, default: 5000) {
            Int($0).flatMap { (1...3_600_000).contains($0) ? $0 : nil }
        }
        return Int64(heartbeat) * 3
    }

    /// Throws the refusal's exit code when bridges are alive, unless forced or `warnOnly`
    /// (a dry run writes nothing): then it only logs them.
    func check(
        redis: RedisClient, keys: RedisKeys, deadAfterMilliseconds: Int64, command: String, warnOnly: Bool, logger: Logger
    ) async throws {
        let live = try await LiveBridges.read(redis: redis, keys: keys, deadAfterMilliseconds: deadAfterMilliseconds)
        guard !live.isEmpty else { return }
        if force || warnOnly {
            logger.warning("bridge processes are alive", metadata: ["nodes": "\(live.description)", "force": "\(force)"])
            return
        }
        writeStandardError(
            "persister \(command): refused: \(live.nodes.count) bridge process(es) alive: \(live.description). "
                + "Stop the bridges first (a change they make meanwhile may be undone), or pass --force.\n"
        )
        throw ExitCode(Self.refusedExitCode)
    }
}
