import Foundation

/// A real `bridge` process on a free port, for tests that need the WebSocket gateway or
/// several processes sharing one Redis. Stopped (SIGKILL) when released.
public final class BridgeProcess: Sendable {
    public static let secret = "a-test-secret-that-is-long-enough-for-hs256"

    public let port: Int
    /// The port of its `/metrics` listener (`BRIDGE_METRICS_PORT`), off the API port.
    public let metricsPort: Int
    public let node: String
    public let logPath: String
    private let process: ChildProcess

    /// Starts a bridge and waits until `/healthz` answers 200.
    /// - Parameters:
    ///   - settings: environment overrides (e.g. `HEARTBEAT_MS`).
    ///   - logDirectory: where `bridge-{node}.log` goes.
    public init(
        redisURL: String, node: String = "test-\(UUID().uuidString.prefix(8))", settings: [String: String] = [:],
        logDirectory: URL = FileManager.default.temporaryDirectory
    ) async throws {
        let port = try FreePort.next()
        var metricsPort = try FreePort.next()
        while metricsPort == port { metricsPort = try FreePort.next() }
        let log = logDirectory.appendingPathComponent("bridge-\(node).log").path
        var environment = ProcessInfo.processInfo.environment
        environment["REDIS_URL"] = redisURL
        environment["BRIDGE_PORT"] = "\(port)"
        environment["BRIDGE_METRICS_PORT"] = "\(metricsPort)"
        environment["JWT_SECRET"] = Self.secret
        environment["NODE_ID"] = node
        environment["BCRYPT_COST"] = "4"
        // Two loops, more than the default here (Redis is local, 2 cores: one): the hops
        // between a process's loops stay under test.
        environment["BRIDGE_EVENT_LOOPS"] = "2"
        environment["LOG_LEVEL"] = environment["BRIDGE_TEST_LOG_LEVEL"] ?? "warning"
        // Tests send bursts from one account; the quota's own tests set SEND_RATE.
        environment["SEND_RATE"] = "0"
        // Every test's accounts come from 127.0.0.1, in bursts: the rate limits' own tests
        // (RateLimitTests) set these.
        environment["REGISTRATIONS_PER_IP"] = "0"
        environment["LOGIN_FAILURES_PER_IP"] = "0"
        environment["VISITOR_CALLS_PER_IP"] = "0"
        environment["BCRYPT_QUEUE"] = "100000"
        for (key, value) in settings { environment[key] = value }
        environment = withTestLayout(environment)
        self.port = port
        self.metricsPort = Int(environment["BRIDGE_METRICS_PORT"] ?? "") ?? metricsPort
        self.node = node
        self.logPath = log
        self.process = try ChildProcess(executable: try Executables.path(of: "bridge"), arguments: [], environment: environment, output: log)
        // Generous: the first seconds of a full run start dozens of processes on two cores.
        do {
            _ = try await eventually(within: 60) { HTTPProbe.get(port: port, path: "/healthz")?.status == 200 }
        } catch {
            let logged = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw TestEnvironment.Missing(description: "the bridge on port \(port) did not answer /healthz: \(error); its log ends: \(logged.suffix(2000))")
        }
    }

    deinit {
        process.terminate(signal: SIGKILL, grace: 5)
    }

    /// The process id (e.g. to read its memory in /proc).
    public var pid: pid_t { process.pid }

    public func signal(_ number: Int32) {
        process.signal(number)
    }

    /// Waits for the process to exit; its exit code, or nil after `timeout`.
    public func waitForExit(timeout: Double) -> Int32? {
        process.waitForExit(timeout: timeout).map(Executables.exitCode)
    }

    // MARK: HTTP

    /// POSTs a JSON body; returns the status and the parsed `{"msg", "data"}` envelope.
    public func post(
        _ path: String, _ body: [String: Any] = [:], token: String? = nil, headers extra: [(String, String)] = []
    ) throws -> (status: Int, body: [String: Any]) {
        var headers = [("Content-Type", "application/json")] + extra
        if let token { headers.append(("token", token)) }
        let bytes = [UInt8](try JSONSerialization.data(withJSONObject: body))
        guard let response = HTTPProbe.request(port: port, method: "POST", path: path, headers: headers, body: bytes) else {
            throw TestEnvironment.Missing(description: "bridge on \(port) did not answer \(path)")
        }
        let parsed = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any] ?? [:]
        return (response.status, parsed)
    }

    /// Registers a fresh user; returns its id and token.
    public func register(_ username: String = "u" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()) throws -> (id: Int, token: String, username: String) {
        try credentials(of: post("/api/regChat", ["username": username, "password": "secret1"]), username: username)
    }

    /// Logs in again (a new token: the previous one is revoked).
    public func login(_ username: String) throws -> (id: Int, token: String, username: String) {
        try credentials(of: post("/api/loginChat", ["username": username, "password": "secret1"]), username: username)
    }

    private func credentials(of response: (status: Int, body: [String: Any]), username: String) throws -> (id: Int, token: String, username: String) {
        guard response.status == 200, let data = response.body["data"] as? [String: Any],
              let id = data["id"] as? Int, let token = data["token"] as? String
        else { throw TestEnvironment.Missing(description: "registration or login failed: \(response)") }
        return (id, token, username)
    }

    /// The text of `/metrics`, from the metrics listener.
    public func metricsText() throws -> String {
        guard let body = HTTPProbe.get(port: metricsPort, path: "/metrics")?.body else {
            throw TestEnvironment.Missing(description: "bridge on \(port) did not answer /metrics on \(metricsPort)")
        }
        return body
    }

    /// The value of an unlabelled counter or gauge on `/metrics`; 0 when the process has
    /// not created it yet (it has never counted).
    public func metric(_ name: String) throws -> Double {
        let body = try metricsText()
        for line in body.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1)) ?? .nan
        }
        return 0
    }

    // MARK: WebSocket

    public func connect(token: String?, answersPings: Bool = true, receiveBufferBytes: Int? = nil) async throws -> WebSocketTestClient {
        let path = token.map { "/ws?token=\($0)" } ?? "/ws"
        return try await WebSocketTestClient.connect(
            port: port, path: path, answersPings: answersPings, receiveBufferBytes: receiveBufferBytes
        )
    }

    /// The resident memory of the process (`VmRSS` in /proc), in bytes.
    public func residentBytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { throw TestEnvironment.Missing(description: "no VmRSS for \(pid)") }
        return kilobytes * 1024
    }
}
