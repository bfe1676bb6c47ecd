import ArgumentParser
import Foundation
import LuaScripts
import RedisClient

/// Drives the Redis client the way `redis-benchmark` drives Redis: `connections`
/// clients, each keeping `depth` commands in flight (one pipeline of `depth` commands,
/// then the next), until `requests` commands have been answered. Prints requests/s.
@main
struct RedisBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-bench",
        abstract: "Throughput of the Swift Redis client (compare with redis-benchmark: scripts/bench-redis.sh)."
    )

    enum Workload: String, ExpressibleByArgument, CaseIterable {
        case set, evalsha
    }

    @Option(help: "Redis URL.") var url = "redis://127.0.0.1:6379/0"
    @Option(help: "set or evalsha (the node_heartbeat script of lua/).") var command: Workload = .set
    @Option(help: "Commands in flight per connection (redis-benchmark -P).") var depth = 1
    @Option(help: "Connections (redis-benchmark -c).") var connections = 50
    @Option(help: "Total commands (redis-benchmark -n).") var requests = 200_000

    func run() async throws {
        var configuration = try RedisConfiguration(url: url)
        configuration.poolSize = connections
        configuration.commandTimeout = .seconds(30)
        let redis = RedisClient(configuration: configuration)
        let scripts = RedisScripts(
            client: redis, scripts: LuaScripts.all.map { RedisScript(name: $0.name, source: $0.source) }
        )
        try await scripts.preload()
        guard let heartbeat = scripts.script(named: "node_heartbeat") else { throw ValidationError("node_heartbeat.lua missing") }

        let command: RedisCommand = switch self.command {
        case .set: RedisCommand("SET", "bench:key", "xxx")
        case .evalsha: RedisCommand("EVALSHA", heartbeat.sha, 1, "bench:nodes", "node-1", 1_700_000_000_000)
        }
        let batch = Array(repeating: command, count: depth)
        let perClient = requests / connections / depth
        // Warm every connection up before the clock starts, as redis-benchmark does.
        for _ in 0..<connections { _ = try await redis.send("PING") }

        let clock = ContinuousClock()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    for _ in 0..<perClient {
                        if depth == 1 {
                            try await redis.send(command).throwingOnError()
                        } else {
                            for reply in try await redis.pipeline(batch) { try reply.throwingOnError() }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let total = perClient * connections * depth
        print(String(format: "%.0f", Double(total) / seconds))
        await redis.shutdown()
    }
}
