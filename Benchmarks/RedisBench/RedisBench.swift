import ArgumentParser
import Foundation
import LuaScripts
import NIOCore
import NIOPosix
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
    @Option(help: "Event loop threads of the client (0: one per core, shared with everything else).") var threads = 0
    @Flag(help: "Run the Swift tasks with an event loop of the pool as their executor preference.") var taskOnEventLoop = false
    @Flag(help: "Drive the client from its event loops with the EventLoopFuture API (as a NIO channel handler would) instead of from Swift tasks.") var onEventLoop = false

    func run() async throws {
        var configuration = try RedisConfiguration(url: url)
        configuration.poolSize = connections
        configuration.commandTimeout = .seconds(30)
        let group: any EventLoopGroup = threads > 0 ? MultiThreadedEventLoopGroup(numberOfThreads: threads) : MultiThreadedEventLoopGroup.singleton
        let redis = RedisClient(configuration: configuration, eventLoopGroup: group)
        let scripts = RedisScripts(
            client: redis, scripts: LuaScripts.all.map { RedisScript(name: $0.name, source: $0.source) }
        )
        try await scripts.preload()
        guard let heartbeat = scripts.script(named: "node_heartbeat") else { throw ValidationError("node_heartbeat.lua missing") }

        let command: RedisCommand = switch self.command {
        case .set: RedisCommand("SET", "bench:key", "xxx")
        case .evalsha: RedisCommand("EVALSHA", heartbeat.sha, 1, "bench:nodes", "node-1", 1_700_000_000_000)
        }
        let perClient = requests / connections / depth
        // Warm every connection up before the clock starts, as redis-benchmark does.
        for _ in 0..<connections { _ = try await redis.send("PING") }

        let clock = ContinuousClock()
        let start = clock.now
        if onEventLoop {
            let loops = (0..<connections).map { _ in group.next() }
            let done = loops.map { loop in
                loop.flatSubmit { LoopClient.run(redis: redis, batch: Array(repeating: command, count: depth), rounds: perClient, on: loop) }
            }
            try await EventLoopFuture.andAllSucceed(done, on: group.next()).get()
        } else {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for _ in 0..<connections {
                    let client = BenchmarkClient(redis: redis, command: command, depth: depth, rounds: perClient)
                    if taskOnEventLoop {
                        tasks.addTask(executorPreference: EventLoopTaskExecutor(group.next())) { try await client.run() }
                    } else {
                        tasks.addTask { try await client.run() }
                    }
                }
                try await tasks.waitForAll()
            }
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let total = perClient * connections * depth
        print(String(format: "%.0f", Double(total) / seconds))
        await redis.shutdown()
    }
}

/// One benchmark client: `rounds` times, `depth` commands in flight, then the next.
struct BenchmarkClient: Sendable {
    let redis: RedisClient
    let command: RedisCommand
    let depth: Int
    let rounds: Int

    func run() async throws {
        let batch = Array(repeating: command, count: depth)
        for _ in 0..<rounds {
            if depth == 1 {
                try await redis.send(command).throwingOnError()
            } else {
                for reply in try await redis.pipeline(batch) { try reply.throwingOnError() }
            }
        }
    }
}

/// A client driven from an event loop: each pipeline's completion sends the next.
enum LoopClient {
    static func run(redis: RedisClient, batch: [RedisCommand], rounds: Int, on loop: any EventLoop) -> EventLoopFuture<Void> {
        guard rounds > 0 else { return loop.makeSucceededVoidFuture() }
        return redis.pipeline(batch, on: loop).flatMapThrowing { replies in
            for reply in replies { try reply.throwingOnError() }
        }.flatMap {
            run(redis: redis, batch: batch, rounds: rounds - 1, on: loop)
        }
    }
}
