import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A mariadbd of the test's own, on a free loopback port in a temporary folder, that the
/// test may stop and start again (same port, same data). Initializing the data folder
/// takes a few seconds.
public final class MariaDBServerProcess: @unchecked Sendable {
    public let port: Int
    public let directory: URL
    private var process: ChildProcess?
    private let lock = NSLock()

    /// `mariadb://root@127.0.0.1:{port}/{database}`.
    public func url(database: String) -> String { "mariadb://root@127.0.0.1:\(port)/\(database)" }

    public init() throws {
        port = try FreePort.next()
        directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("mdb-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("db"), withIntermediateDirectories: true)
        var arguments = [
            "--no-defaults", "--datadir=\(directory.appendingPathComponent("db").path)",
            "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve",
        ]
        if getuid() == 0 { arguments.append("--user=root") }
        let install = try ChildProcess(
            executable: "/usr/bin/mariadb-install-db", arguments: arguments,
            output: directory.appendingPathComponent("install.log").path
        )
        guard let status = install.waitForExit(timeout: 120), status == 0 else {
            throw TestEnvironment.Missing(description: "mariadb-install-db failed (see \(directory.path)/install.log)")
        }
        try start()
    }

    deinit {
        lock.withLock { process?.terminate(signal: SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    public func start() throws {
        var arguments = [
            "--no-defaults", "--datadir=\(directory.appendingPathComponent("db").path)",
            "--socket=\(directory.appendingPathComponent("s.sock").path)", "--port=\(port)", "--bind-address=127.0.0.1",
            "--skip-name-resolve", "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
            "--innodb-flush-log-at-trx-commit=2", "--skip-log-bin", "--innodb-log-file-size=16M",
            "--log-error=\(directory.appendingPathComponent("mariadb.log").path)",
        ]
        if getuid() == 0 { arguments.append("--user=root") }
        try lock.withLock {
            process = try ChildProcess(executable: "/usr/sbin/mariadbd", arguments: arguments, output: "/dev/null")
        }
        let deadline = Date().addingTimeInterval(60)
        while !FreePort.isListening(port) {
            guard Date() < deadline else { throw TestEnvironment.Missing(description: "mariadbd did not listen on \(port)") }
            usleep(100_000)
        }
    }

    /// SIGTERM and wait (a clean shutdown); clients see their connections close.
    public func stop() {
        lock.withLock {
            process?.terminate()
            process = nil
        }
    }
}
