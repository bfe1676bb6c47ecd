import Foundation

/// A real `console` process (the operators' console, docs/console.md) on a free loopback
/// port, with its metrics listener off. Stopped (SIGKILL) when released.
public final class ConsoleProcess: Sendable {
    public let port: Int
    public let redisURL: String
    public let logPath: String
    private let process: ChildProcess

    /// What a browser opens.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// Starts `console serve` and waits until its readiness probe `/healthz` answers 200.
    /// - Parameter settings: environment overrides.
    public init(
        redisURL: String, settings: [String: String] = [:], logDirectory: URL = FileManager.default.temporaryDirectory
    ) async throws {
        let port = try FreePort.next()
        let log = logDirectory.appendingPathComponent("console-\(port).log").path
        var environment = ProcessInfo.processInfo.environment
        environment["REDIS_URL"] = redisURL
        environment["CONSOLE_HOST"] = "127.0.0.1"
        environment["CONSOLE_PORT"] = "\(port)"
        environment["CONSOLE_METRICS_PORT"] = "0"
        environment["BCRYPT_COST"] = "4"
        environment["LOG_LEVEL"] = environment["CONSOLE_TEST_LOG_LEVEL"] ?? "notice"
        for (key, value) in settings { environment[key] = value }
        environment = withTestLayout(environment)
        self.port = port
        self.redisURL = redisURL
        self.logPath = log
        process = try ChildProcess(executable: try Executables.path(of: "console"), arguments: ["serve"], environment: environment, output: log)
        do {
            _ = try await eventually(within: 60) { HTTPProbe.get(port: port, path: "/healthz")?.status == 200 }
        } catch {
            throw TestEnvironment.Missing(description: "the console on port \(port) did not answer /healthz: \(error); its log ends: \(self.log.suffix(2000))")
        }
    }

    deinit {
        process.terminate(signal: SIGKILL, grace: 5)
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    // MARK: Admin accounts

    /// `console admin create NAME --password-file F` with `password` already in F (the
    /// command keeps a password it finds there); its output.
    @discardableResult
    public static func createAdmin(_ name: String, password: String, redisURL: String) throws -> String {
        try admin(["create", name], password: password, redisURL: redisURL)
    }

    /// `console admin ARGUMENTS --password-file F` (F holding `password`); its output, or
    /// an error with it when the command fails.
    @discardableResult
    public static func admin(_ arguments: [String], password: String? = nil, redisURL: String) throws -> String {
        var arguments = ["admin"] + arguments
        var file: URL?
        if let password {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("admin-\(UUID().uuidString).password")
            try Data(password.utf8).write(to: path)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path.path)
            arguments += ["--password-file", path.path]
            file = path
        }
        defer { file.map { try? FileManager.default.removeItem(at: $0) } }
        let result = try Executables.run("console", arguments: arguments, environment: ["REDIS_URL": redisURL, "BCRYPT_COST": "4"])
        guard result.status == 0 else {
            throw TestEnvironment.Missing(description: "console \(arguments.joined(separator: " ")) exited \(result.status): \(result.output)")
        }
        return result.output
    }

    // MARK: JSON API

    /// A signed-in session of the JSON API: the `console_session` cookie and the CSRF token.
    public struct Session: Sendable {
        public let cookie: String
        public let csrf: String

        public init(cookie: String, csrf: String) {
            self.cookie = cookie
            self.csrf = csrf
        }
    }

    /// `POST /api/login`.
    public func login(_ name: String, password: String) throws -> Session {
        let response = try request("POST", "/api/login", json: ["username": name, "password": password])
        guard response.status == 200, let data = response.json["data"] as? [String: Any], let csrf = data["csrf"] as? String,
              let cookie = response.headers["set-cookie"].flatMap(Self.sessionCookie)
        else { throw TestEnvironment.Missing(description: "console login as \(name) failed: \(response.status) \(response.body)") }
        return Session(cookie: cookie, csrf: csrf)
    }

    /// A request to the console; JSON bodies are sent as `application/json`, with the
    /// session's cookie and (for POSTs) its CSRF header.
    public func request(
        _ method: String, _ path: String, json: [String: Any]? = nil, session: Session? = nil
    ) throws -> (status: Int, headers: [String: String], body: String, json: [String: Any]) {
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        if let json {
            headers.append(("Content-Type", "application/json"))
            body = [UInt8](try JSONSerialization.data(withJSONObject: json))
        }
        if let session {
            headers.append(("Cookie", "console_session=\(session.cookie)"))
            if method != "GET" { headers.append(("X-CSRF-Token", session.csrf)) }
        }
        guard let response = HTTPProbe.request(port: port, method: method, path: path, headers: headers, body: body) else {
            throw TestEnvironment.Missing(description: "the console on \(port) did not answer \(method) \(path)")
        }
        let parsed = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any] ?? [:]
        return (response.status, response.headers, response.body, parsed)
    }

    /// The value of `console_session=…` in a `Set-Cookie` header.
    static func sessionCookie(_ header: String) -> String? {
        guard let range = header.range(of: "console_session=") else { return nil }
        return String(header[range.upperBound...].prefix { $0 != ";" && $0 != "," })
    }
}
