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
        case sendSingle = "send-single"
        case encodeSend = "encode-send"
        case sendSteps = "send-steps"
    }

    @Option(help: "Redis URL.") var url = "redis://127.0.0.1:6379/0"
    @Option(help: "set, evalsha (the node_heartbeat script of lua/), send-single (message_send_single for --pairs: the ceiling of scripts/bench-chat.sh), encode-send (the client's work for one send, no Redis: --requests iterations) or send-steps (single sends on a partitioned layout for --send-pairs: one run within a partition, the three steps between two; --requests sends by --connections × --depth tasks, one send at a time each, over --connections per node).")
    var command: Workload = .set
    @Option(help: "Commands in flight per connection (redis-benchmark -P).") var depth = 1
    @Option(help: "Connections (redis-benchmark -c).") var connections = 50
    @Option(help: "Total commands (redis-benchmark -n).") var requests = 200_000
    @Option(help: "Event loop threads of the client (0: one per core, shared with everything else).") var threads = 0
    @Flag(help: "Run the Swift tasks with an event loop of the pool as their executor preference.") var taskOnEventLoop = false
    @Flag(help: "Drive the client from its event loops with the EventLoopFuture API (as a NIO channel handler would) instead of from Swift tasks.") var onEventLoop = false

    // send-single only: it runs for a time, not a count, and prints key=value.
    @Option(help: "send-single: file of 'sender-id token recipient-id' lines (gateway-bench chat --pairs-out).") var pairs: String?
    @Option(help: "send-single: seconds measured, after --warmup seconds that are not.") var seconds: Double = 5
    @Option(help: "send-single: seconds of load before the measurement.") var warmup: Double = 1
    @Option(help: "send-single: pid of redis-server, whose CPU time is reported.") var redisPid: Int32?
    @Option(help: "send-single: HISTORY_CAP of the bridge.") var historyCap = 1000
    @Option(help: "send-single: STREAM_MAX_LEN of the bridge.") var streamCap = 5_000_000
    @Option(help: "send-single: SEND_DEDUP_SECONDS of the bridge.") var dedupSeconds = 300
    @Option(help: "send-single: three heartbeats of the bridge (HEARTBEAT_MS × 3).") var deadAfterMs = 15000
    @Option(help: "send-single: OFFLINE_QUEUE_CAP of the bridge.") var queueCap = 5000

    @Option(help: "send-steps: 'sender:recipient,…' user ids, in turn.") var sendPairs: String?
    @Option(help: "send-steps: partitions of the layout (PartitionTags.evenlySpaced).") var partitions = 12

    @Option(help: "Print the assembled source of this lua/ script (as embedded) and exit.") var printScript: String?

    func run() async throws {
        if let name = printScript {
            guard let source = LuaScripts.source(named: name) else { throw ValidationError("no script \(name)") }
            FileHandle.standardOutput.write(Data(source))
            return
        }
        if command == .encodeSend {
            EncodeSend.run(iterations: requests)
            return
        }
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
        if self.command == .sendSteps {
            try await partitionedSend(redis: redis, scripts: scripts)
            await redis.shutdown()
            return
        }
        if self.command == .sendSingle {
            try await sendSingle(redis: redis, scripts: scripts, group: group)
            await redis.shutdown()
            return
        }

        let command: RedisCommand = switch self.command {
        case .set: RedisCommand("SET", "bench:key", "xxx")
        case .evalsha: RedisCommand("EVALSHA", heartbeat.sha, 2, "bench:nodes", "bench:nodes:deliveries", "node-1", 1_700_000_000_000)
        case .sendSingle, .encodeSend, .sendSteps: fatalError("handled above")
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

extension RedisBench {
    /// The chat ceiling: `connections` clients on the pool's loops, each keeping one
    /// pipeline of `depth` sends in flight, for `warmup` + `seconds`; only the replies that
    /// arrive within the last `seconds` count. Prints `rate=… local=… other=… refused=…
    /// cpu_redis=… cpu_client=… cpu_other=…` (cores: CPU seconds per second of the window).
    func sendSingle(redis: RedisClient, scripts: RedisScripts, group: any EventLoopGroup) async throws {
        guard let pairs else { throw ValidationError("send-single needs --pairs") }
        guard let script = scripts.script(named: "message_send_single") else { throw ValidationError("message_send_single.lua missing") }
        let policy = SendSingleWorkload.Policy(
            historyCap: historyCap, streamCap: streamCap, clientIDWindowSeconds: dedupSeconds,
            deadAfterMilliseconds: deadAfterMs, offlineQueueCap: queueCap
        )
        let workload = try await SendSingleWorkload.load(pairsFile: pairs, sha: script.sha, policy: policy, redis: redis)
        for _ in 0..<connections { _ = try await redis.send("PING") }

        let clock = ContinuousClock()
        let start = clock.now + .milliseconds(Int64(warmup * 1000))
        let end = start + .milliseconds(Int64(seconds * 1000))
        let numbers = MessageNumbers()
        let depth = depth
        let tally = try await withThrowingTaskGroup(of: (SendTally, Int).self) { tasks in
            for _ in 0..<connections {
                tasks.addTask(executorPreference: EventLoopTaskExecutor(group.next())) {
                    var tally = SendTally()
                    var measured = 0
                    while clock.now < end {
                        let first = numbers.take(depth)
                        let replies = try await redis.pipeline((first..<(first + depth)).map(workload.command))
                        let now = clock.now
                        for reply in replies { tally.count(reply) }
                        if now >= start, now < end { measured += replies.count }
                    }
                    return (tally, measured)
                }
            }
            // The CPU readings at the window's edges, from a task of its own.
            tasks.addTask {
                try await Task.sleep(until: start, clock: clock)
                let before = (redisPid.flatMap(cpuSeconds(of:)), cpuSeconds(of: getpid()), machineBusySeconds())
                try await Task.sleep(until: end, clock: clock)
                let after = (redisPid.flatMap(cpuSeconds(of:)), cpuSeconds(of: getpid()), machineBusySeconds())
                let cores = { (b: Double?, a: Double?) in b.flatMap { b in a.map { ($0 - b) / seconds } } }
                var tally = SendTally()
                tally.cpu = (cores(before.0, after.0), cores(before.1, after.1), cores(before.2, after.2))
                return (tally, 0)
            }
            var total = SendTally()
            var measured = 0
            for try await (tally, count) in tasks {
                total.add(tally)
                measured += count
            }
            total.measured = measured
            return total
        }
        if let problem = tally.firstProblem {
            try? FileHandle.standardError.write(contentsOf: Data("redis-bench: first reply not routed locally: \(problem)\n".utf8))
        }
        let cores = { (value: Double?) in value.map { String(format: "%.2f", $0) } ?? "nan" }
        print(String(format: "rate=%.0f", Double(tally.measured) / seconds)
            + " local=\(tally.local) other=\(tally.other) refused=\(tally.refused)"
            + " cpu_redis=\(cores(tally.cpu.redis)) cpu_client=\(cores(tally.cpu.client))"
            // The rest of the machine's busy time: the idle bridge, and whatever else ran.
            + " cpu_other=\(cores(tally.cpu.machine.map { max(0, $0 - (tally.cpu.redis ?? 0) - (tally.cpu.client ?? 0)) }))")
        if tally.other > 0 || tally.refused > 0 { throw ExitCode(1) }
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
