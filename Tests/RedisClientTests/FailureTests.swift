import NIOCore
import RedisClient
import Synchronization
import TestSupport
import Testing

@Suite("Redis restarted, paused or absent")
struct FailureTests {
    @Test("restart under load: no hang, no wrong reply, recovery", .timeLimit(.minutes(1)))
    func restartUnderLoad() async throws {
        let server = try RedisServerProcess()
        let redis = try client(of: server, poolSize: 3, timeout: .seconds(1))
        defer { Task { await redis.shutdown() } }
        let load = LoadState()

        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var index = 0
                    while !load.stop.load(ordering: .relaxed) {
                        index += 1
                        let payload = "w\(worker)-\(index)"
                        do {
                            let reply = try await redis.send("ECHO", payload)
                            load.counts.withLock { reply == .bulk(Array(payload.utf8)) ? ($0.ok += 1) : ($0.wrong += 1) }
                        } catch let error as RedisError {
                            // Only the two documented outcomes of a broken connection.
                            switch error {
                            case .connectionClosed, .timeout: load.counts.withLock { $0.failed += 1 }
                            default: load.counts.withLock { $0.wrong += 1 }
                            }
                        } catch {
                            load.counts.withLock { $0.wrong += 1 }
                        }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            for _ in 0..<2 {
                try server.restart()
                try await Task.sleep(for: .milliseconds(400))
            }
            // A thousand replies whatever the machine's speed: with every suite running at
            // once on two cores, the restarts' second may see only a few hundred.
            try await eventually(within: 20) { load.counts.withLock { $0.ok } > 1000 }
            load.stop.store(true, ordering: .relaxed)
            try await group.waitForAll()
        }
        let result = load.counts.withLock { $0 }
        #expect(result.wrong == 0)
        #expect(result.ok > 1000)
        // Recovery: commands succeed again after the last restart.
        try await eventually(within: 5) { try await redis.send("PING") == .status("PONG") }
        #expect(try await redis.send("SET", "after", "restart") == .status("OK"))
    }

    @Test("SIGSTOP: calls time out within the timeout, then recover after SIGCONT", .timeLimit(.minutes(1)))
    func pausedServer() async throws {
        let server = try RedisServerProcess()
        let redis = try client(of: server, poolSize: 2, timeout: .milliseconds(400))
        defer { Task { await redis.shutdown() } }
        #expect(try await redis.send("PING") == .status("PONG"))

        server.pause()
        let clock = ContinuousClock()
        try await withThrowingTaskGroup(of: Duration.self) { group in
            for index in 0..<20 {
                group.addTask {
                    let start = clock.now
                    do {
                        _ = try await redis.send("ECHO", "during-pause-\(index)")
                        Issue.record("a command succeeded while Redis was stopped")
                    } catch let error as RedisError {
                        guard case .timeout = error else { Issue.record("expected a timeout, got \(error)"); return .zero }
                    }
                    return clock.now - start
                }
            }
            for try await elapsed in group {
                #expect(elapsed < .milliseconds(900), "took \(elapsed), timeout is 400 ms")
            }
        }
        // While still paused, new calls (now waiting for a reconnect) also time out.
        let start = clock.now
        await #expect(throws: RedisError.self) { try await redis.send("PING") }
        #expect(clock.now - start < .milliseconds(900))

        server.resume()
        let recovery = try await eventually(within: 5) { try await redis.send("PING") == .status("PONG") }
        #expect(recovery < .seconds(5))
        #expect(try await redis.send("ECHO", "after") == .bulk(Array("after".utf8)))
    }

    @Test("nobody listening: calls fail with a timeout naming the cause", .timeLimit(.minutes(1)))
    func unreachable() async throws {
        var configuration = try RedisConfiguration(url: "redis://127.0.0.1:\(try FreePort.next())/0")
        configuration.commandTimeout = .milliseconds(300)
        let redis = RedisClient(configuration: configuration)
        defer { Task { await redis.shutdown() } }
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try await redis.send("PING")
            Issue.record("PING succeeded with nothing listening")
        } catch {
            guard case .timeout(_, let detail) = error else { Issue.record("unexpected \(error)"); return }
            #expect(detail.contains("not connected"))
        }
        #expect(clock.now - start < .milliseconds(800))
    }

    @Test("shutdown fails waiting and later calls with .shutdown", .timeLimit(.minutes(1)))
    func shutdown() async throws {
        let redis = try sharedClient()
        #expect(try await redis.send("PING") == .status("PONG"))
        await redis.shutdown()
        await #expect(throws: RedisError.shutdown) { try await redis.send("PING") }
    }
}

/// Shared by the load tasks of a test.
private final class LoadState: Sendable {
    let stop = Atomic<Bool>(false)
    let counts = Mutex((ok: 0, failed: 0, wrong: 0))
}
