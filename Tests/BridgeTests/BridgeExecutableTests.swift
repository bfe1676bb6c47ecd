import Foundation
import TestSupport
import Testing

/// The real `bridge` binary: configuration errors, --help, serving, and SIGTERM.
@Suite("The bridge executable", .offCooperativePool)
struct BridgeExecutableTests {
    @Test("a bad value stops it with one line naming the option", arguments: [
        (["--port", "abc"], [:], "--port (BRIDGE_PORT)"),
        ([], ["BRIDGE_PORT": "70000"], "--port (BRIDGE_PORT)"),
        ([], ["REDIS_URL": "http://nope"], "--redis-url (REDIS_URL)"),
        (["--log-level", "loud"], [:], "--log-level (LOG_LEVEL)"),
        ([], ["JWT_SECRET": "short"], "--jwt-secret (JWT_SECRET)"),
        ([], ["NODE_ID": "a:b"], "--node-id (NODE_ID)"),
        ([], ["REDIS_POOL_SIZE": "0"], "--redis-pool-size (REDIS_POOL_SIZE)"),
        ([], ["BCRYPT_COST": "3"], "--bcrypt-cost (BCRYPT_COST)"),
        (["--ws-max-frame-bytes", "64k"], [:], "--ws-max-frame-bytes (WS_MAX_FRAME_BYTES)"),
        ([], ["WS_PING_SECONDS": "0"], "--ws-ping-seconds (WS_PING_SECONDS)"),
        ([], ["HEARTBEAT_MS": "10"], "--heartbeat-ms (HEARTBEAT_MS)"),
        ([], ["OFFLINE_QUEUE_CAP": "-1"], "--offline-queue-cap (OFFLINE_QUEUE_CAP)"),
        ([], ["OFFLINE_QUEUE_BYTES": "0"], "--offline-queue-bytes (OFFLINE_QUEUE_BYTES)"),
        ([], ["SEND_RATE": "-1"], "--send-rate (SEND_RATE)"),
        ([], ["SEND_BURST": "0"], "--send-burst (SEND_BURST)"),
        ([], ["GROUP_MAX_MEMBERS": "1"], "--group-max-members (GROUP_MAX_MEMBERS)"),
        ([], ["UPLOADS_PER_DAY": "0"], "--uploads-per-day (UPLOADS_PER_DAY)"),
        ([], ["REDIS_ALLOW_EVICTION": "maybe"], "--redis-allow-eviction (REDIS_ALLOW_EVICTION)"),
        ([], ["BRIDGE_METRICS_PORT": "70000"], "--metrics-port (BRIDGE_METRICS_PORT)"),
        (["--metrics-host", ""], [:], "--metrics-host (BRIDGE_METRICS_HOST)"),
    ] as [([String], [String: String], String)])
    func badValue(arguments: [String], environment: [String: String], option: String) throws {
        let (status, output) = try Executables.run("bridge", arguments: arguments, environment: environment)
        #expect(status == 64)
        let lines = output.split(separator: "\n")
        #expect(lines.count == 1, "\(output)")
        #expect(lines.first?.hasPrefix("bridge: invalid value for \(option): ") == true, "\(output)")
    }

    @Test("--help documents every option and its environment variable")
    func help() throws {
        let (status, output) = try Executables.run("bridge", arguments: ["--help"])
        #expect(status == 0)
        for option in ["--redis-url", "--redis-pool-size", "--redis-timeout-ms", "--node-id", "--log-level", "--host", "--port", "--jwt-secret", "--visitor-salt", "--bcrypt-cost", "--ws-max-frame-bytes", "--ws-ping-seconds", "--heartbeat-ms", "--offline-queue-cap", "--notice-icon-base", "--metrics-host", "--metrics-port"] {
            #expect(output.contains(option), "\(option) missing from --help")
        }
        for variable in ["REDIS_URL", "REDIS_POOL_SIZE", "REDIS_TIMEOUT_MS", "NODE_ID", "LOG_LEVEL", "BRIDGE_HOST", "BRIDGE_PORT", "JWT_SECRET", "VISITOR_SALT", "BCRYPT_COST", "WS_MAX_FRAME_BYTES", "WS_PING_SECONDS", "HEARTBEAT_MS", "OFFLINE_QUEUE_CAP", "NOTICE_ICON_BASE", "BRIDGE_METRICS_HOST", "BRIDGE_METRICS_PORT"] {
            #expect(output.contains(variable), "\(variable) missing from --help")
        }
    }

    @Test("serves /healthz from REDIS_URL and BRIDGE_PORT, /metrics on BRIDGE_METRICS_PORT only, and exits 0 on SIGTERM", .timeLimit(.minutes(1)))
    func servesAndStops() async throws {
        let port = try FreePort.next()
        var metricsPort = try FreePort.next()
        while metricsPort == port { metricsPort = try FreePort.next() }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("bridge-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        var environment = ProcessInfo.processInfo.environment
        environment["REDIS_URL"] = try TestEnvironment.redisURL()
        environment["BRIDGE_PORT"] = "\(port)"
        environment["BRIDGE_METRICS_PORT"] = "\(metricsPort)"
        environment["JWT_SECRET"] = "a-test-secret-that-is-long-enough-for-hs256"
        let bridge = try ChildProcess(executable: try Executables.path(of: "bridge"), arguments: [], environment: environment, output: log.path)

        // As BridgeProcess waits: a debug bridge's start costs about half a second of CPU,
        // which took over 10 s beside the other suites' processes on two cores.
        do {
            try await eventually(within: 60) { HTTPProbe.get(port: port, path: "/healthz")?.status == 200 }
        } catch {
            Issue.record("the bridge's log: \((try? String(contentsOf: log, encoding: .utf8)) ?? "none")")
            throw error
        }
        // issue 18: /metrics is not on the public API port, but on a listener of its own
        #expect(HTTPProbe.get(port: port, path: "/metrics")?.status == 404)
        let metrics = try #require(HTTPProbe.get(port: metricsPort, path: "/metrics"))
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(metrics.body.contains("# TYPE "), "\(metrics.body)")
        // and only /metrics there: health stays on the API port
        #expect(HTTPProbe.get(port: metricsPort, path: "/healthz")?.status == 404)

        bridge.signal(SIGTERM)
        let status = try #require(bridge.waitForExit(timeout: 10), "bridge did not exit after SIGTERM")
        #expect(Executables.exitCode(status) == 0)
        #expect(HTTPProbe.get(port: port, path: "/healthz") == nil)
        #expect(HTTPProbe.get(port: metricsPort, path: "/metrics") == nil)
    }

    @Test("/healthz answers 503 while Redis is unreachable", .timeLimit(.minutes(1)))
    func unhealthyWithoutRedis() async throws {
        let port = try FreePort.next()
        var environment = ProcessInfo.processInfo.environment
        environment["REDIS_URL"] = "redis://127.0.0.1:\(try FreePort.next())/0"
        environment["REDIS_TIMEOUT_MS"] = "200"
        environment["BRIDGE_PORT"] = "\(port)"
        environment["BRIDGE_METRICS_PORT"] = "0"
        let bridge = try ChildProcess(executable: try Executables.path(of: "bridge"), arguments: [], environment: environment)
        try await eventually(within: 60) { HTTPProbe.get(port: port, path: "/healthz")?.status == 503 }
        bridge.terminate()
    }
}
