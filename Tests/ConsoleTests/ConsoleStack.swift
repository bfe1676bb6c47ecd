import Foundation
import MariaDB
import RedisClient
import Testing
import TestSupport

/// One test's whole system: a Redis of its own (the dashboard counts everything in it)
/// with the users of docs/operations.md, each process running as its own, a migrated
/// throwaway database with a real persister draining into it, bridge processes, the
/// console and an admin account. Logs and screenshots go to one folder
/// (`TestArtifacts`: kept with `KEEP_TMP=1`).
final class ConsoleStack: @unchecked Sendable {
    typealias Account = (id: Int, token: String, username: String)

    let artifacts: URL
    let redisServer: RedisServerProcess
    let redis: RedisClient
    let database: MariaDBTestDatabase
    let persister: PersisterProcess
    let bridges: [BridgeProcess]
    let console: ConsoleProcess
    let adminName: String
    let adminPassword: String
    /// The console's documented Redis user, for `console admin`.
    let consoleRedisURL: String
    private var scenarios = 0

    var bridge: BridgeProcess { bridges[0] }

    private init(
        artifacts: URL, redisServer: RedisServerProcess, redis: RedisClient, database: MariaDBTestDatabase,
        persister: PersisterProcess, bridges: [BridgeProcess], console: ConsoleProcess, adminName: String, adminPassword: String,
        consoleRedisURL: String
    ) {
        self.artifacts = artifacts
        self.redisServer = redisServer
        self.redis = redis
        self.database = database
        self.persister = persister
        self.bridges = bridges
        self.console = console
        self.adminName = adminName
        self.adminPassword = adminPassword
        self.consoleRedisURL = consoleRedisURL
    }

    static func with<Result>(
        _ name: String, bridges count: Int = 1, bridgeSettings: [String: String] = [:], persisterSettings: [String: String] = [:],
        consoleSettings: [String: String] = [:], _ body: (ConsoleStack) async throws -> Result
    ) async throws -> Result {
        let artifacts = try TestArtifacts.folder(name)
        let server = try RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration.forTests(url: server.url))
        defer { _ = server }
        do {
            let result = try await MariaDBTestDatabase.with(prefix: "console", create: false) { database in
                let migrated = try Executables.run("persister", arguments: ["migrate"], environment: ["MARIADB_URL": database.url])
                guard migrated.status == 0 else {
                    throw TestEnvironment.Missing(description: "persister migrate exited \(migrated.status): \(migrated.output)")
                }
                // Every process as its documented Redis user; the test itself as `default`.
                let users = try await DocumentedUsers.install(on: server, using: redis)
                let adminName = "admin" + UUID().uuidString.prefix(6).lowercased()
                let adminPassword = "pw-" + UUID().uuidString.prefix(16)
                try ConsoleProcess.createAdmin(adminName, password: adminPassword, redisURL: users["console"]!)
                let persister = try PersisterProcess(
                    redisURL: users["persister"]!, mariaDBURL: database.url, settings: persisterSettings, logDirectory: artifacts
                )
                var bridges: [BridgeProcess] = []
                for index in 0..<count {
                    bridges.append(try await BridgeProcess(
                        redisURL: users["bridge"]!, node: "\(name.prefix(12))-\(index)-\(UUID().uuidString.prefix(4))",
                        settings: bridgeSettings, logDirectory: artifacts
                    ))
                }
                let console = try await ConsoleProcess(redisURL: users["console"]!, settings: consoleSettings, logDirectory: artifacts)
                let stack = ConsoleStack(
                    artifacts: artifacts, redisServer: server, redis: redis, database: database, persister: persister,
                    bridges: bridges, console: console, adminName: adminName, adminPassword: adminPassword,
                    consoleRedisURL: users["console"]!
                )
                let result = try await body(stack)
                // Nothing any process did was refused by its user's rule.
                let refused = try await DocumentedUsers.refusals(redis)
                #expect(refused.isEmpty, "commands refused by the documented ACL rules: \(refused)")
                return result
            }
            await redis.shutdown()
            return result
        } catch {
            await redis.shutdown()
            throw error
        }
    }

    // MARK: The browser

    /// Runs a scenario of `Browser/console_browser.py` with the console's address, the
    /// admin and `parameters` in its environment; its JSON result. Its screenshots and
    /// output go to `artifacts/NN-{scenario}/`. A failed assertion, or a browser that does
    /// not start, throws with the script's message.
    @discardableResult
    func browser(_ scenario: String, _ parameters: [String: String] = [:], admin: (String, String)? = nil) throws -> [String: Any] {
        scenarios += 1
        let folder = artifacts.appendingPathComponent(String(format: "%02d-%@", scenarios, scenario))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment
        environment["CONSOLE_URL"] = console.url
        environment["ADMIN_NAME"] = admin?.0 ?? adminName
        environment["ADMIN_PASSWORD"] = admin?.1 ?? adminPassword
        environment["SCREENSHOT_DIR"] = folder.path
        environment["PYTHONIOENCODING"] = "utf-8"
        for (key, value) in parameters { environment[key] = value }
        let output = folder.appendingPathComponent("output.log").path
        let process = try ChildProcess(
            executable: try Self.python(), arguments: [Self.script, scenario], environment: environment, output: output
        )
        guard let status = process.waitForExit(timeout: 180) else {
            process.terminate(signal: SIGKILL)
            throw BrowserFailure(description: "\(scenario): no answer within 180 s; output: \(Self.read(output).suffix(2000))")
        }
        let text = Self.read(output)
        guard Executables.exitCode(status) == 0 else {
            throw BrowserFailure(description: "browser scenario \(scenario) exited \(Executables.exitCode(status)) (screenshots in \(folder.path)): \(text.suffix(3000))")
        }
        let last = text.split(separator: "\n").last.map(String.init) ?? ""
        guard let result = (try? JSONSerialization.jsonObject(with: Data(last.utf8))) as? [String: Any] else {
            throw BrowserFailure(description: "browser scenario \(scenario) printed no JSON result: \(text.suffix(2000))")
        }
        return result
    }

    struct BrowserFailure: Error, CustomStringConvertible {
        let description: String
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Browser/console_browser.py").path

    /// `BROWSER_PYTHON` (set by `make test`: a python3 with selenium), else python3 on PATH.
    static func python() throws -> String {
        if let path = ProcessInfo.processInfo.environment["BROWSER_PYTHON"], !path.isEmpty { return path }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let candidate = "\(directory)/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw TestEnvironment.Missing(description: "no python3 with selenium: run the tests with `make test`, which installs it")
    }

    private static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    // MARK: MariaDB through the persister

    /// The rows of `sql` once `condition` holds for them (the persister drains within a
    /// few polls), else the last rows seen.
    @discardableResult
    func persisted(_ sql: String, within seconds: Double = 20, _ condition: @escaping ([[String?]]) -> Bool) async throws -> [[String?]] {
        var last: [[String?]] = []
        do {
            _ = try await eventually(within: seconds) { [self] in
                last = try database.connect().query(sql).map(\.values)
                return condition(last)
            }
        } catch {
            Issue.record("\(sql): \(last) after \(seconds) s; persister log: \(persister.log.suffix(1500))")
        }
        return last
    }

    /// The `admin_audit` rows of `action` on `targetID`, as `[admin, action, target_type,
    /// target_id, detail, address]`, once there are `count`.
    @discardableResult
    func audited(_ action: String, target: Int?, count: Int = 1) async throws -> [[String?]] {
        let targetClause = target.map { "target_id = \($0)" } ?? "target_id IS NULL"
        let rows = try await persisted(
            "SELECT admin, action, target_type, target_id, detail, address FROM admin_audit WHERE action = '\(action)' AND \(targetClause) ORDER BY id"
        ) { $0.count == count }
        #expect(rows.count == count, "\(count) admin_audit row(s) \(action) on \(target.map(String.init) ?? "nothing"): \(rows)")
        for row in rows {
            #expect(row[0] == adminName, "the audit row names the admin: \(row)")
            #expect(row[5] == "127.0.0.1", "the audit row has the operator's address: \(row)")
        }
        return rows
    }

    /// A fresh Redis rebuilt from MariaDB by `persister hydrate`: what survives a restart
    /// from the durable record. Released by the caller.
    func hydrated() throws -> RedisServerProcess {
        let server = try RedisServerProcess()
        let result = try Executables.run(
            "persister", arguments: ["hydrate"], environment: ["REDIS_URL": server.url, "MARIADB_URL": database.url], timeout: 60
        )
        guard result.status == 0 else {
            throw TestEnvironment.Missing(description: "persister hydrate exited \(result.status): \(result.output)")
        }
        return server
    }

    /// A field of a hash in another Redis.
    static func field(_ key: String, _ field: String, in server: RedisServerProcess) async throws -> String? {
        let client = RedisClient(configuration: try RedisConfiguration.forTests(url: server.url))
        defer { Task { await client.shutdown() } }
        return try await client.send("HGET", key, field).string
    }

    // MARK: Bridge

    /// A GET with the user's token (the bridge's `GET` routes).
    func get(_ path: String, token: String, on bridge: BridgeProcess? = nil) throws -> (status: Int, body: [String: Any]) {
        let bridge = bridge ?? self.bridge
        guard let response = HTTPProbe.request(port: bridge.port, method: "GET", path: path, headers: [("token", token)]) else {
            throw TestEnvironment.Missing(description: "bridge on \(bridge.port) did not answer \(path)")
        }
        return (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any] ?? [:])
    }

    static func randomName(_ prefix: String = "u") -> String {
        prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(11).lowercased()
    }
}
