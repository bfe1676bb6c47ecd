import Foundation

/// A real `persister run` process, stopped (SIGKILL) when released. Quick to claim and
/// poll, no trimming; `settings` override the environment (e.g. `PERSISTER_MAX_ATTEMPTS`).
public final class PersisterProcess: @unchecked Sendable {
    public let node: String
    public let logPath: String
    public let metricsPort: Int
    private let process: ChildProcess

    public init(
        redisURL: String, mariaDBURL: String, node: String = "p-\(UUID().uuidString.prefix(8))", settings: [String: String] = [:],
        logDirectory: URL = FileManager.default.temporaryDirectory
    ) throws {
        let metricsPort = try FreePort.next()
        let log = logDirectory.appendingPathComponent("persister-\(node).log").path
        var environment = ProcessInfo.processInfo.environment
        environment["REDIS_URL"] = redisURL
        environment["MARIADB_URL"] = mariaDBURL
        environment["NODE_ID"] = node
        environment["PERSISTER_METRICS_PORT"] = "\(metricsPort)"
        environment["PERSISTER_CLAIM_IDLE_MS"] = "1000"
        environment["PERSISTER_POLL_MS"] = "200"
        environment["PERSISTER_TRIM_INTERVAL_MS"] = "0"
        environment["LOG_LEVEL"] = environment["PERSISTER_TEST_LOG_LEVEL"] ?? "notice"
        for (key, value) in settings { environment[key] = value }
        environment = withTestLayout(environment)
        self.node = node
        self.logPath = log
        self.metricsPort = metricsPort
        process = try ChildProcess(executable: try Executables.path(of: "persister"), arguments: ["run"], environment: environment, output: log)
    }

    deinit {
        process.terminate(signal: SIGKILL, grace: 5)
    }

    public func signal(_ number: Int32) { process.signal(number) }

    public func waitForExit(timeout: Double) -> Int32? {
        process.waitForExit(timeout: timeout).map(Executables.exitCode)
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}
