import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A redis-server of the test's own, on a free loopback port in a temporary folder, that
/// the test may stop, restart (same port) or pause with SIGSTOP.
public final class RedisServerProcess: @unchecked Sendable {
    public let port: Int
    public let directory: URL
    private let binary: String
    private let extraArguments: [String]
    private var process: ChildProcess?
    private let lock = NSLock()
    private var handWritten = false
    private var collections = 0

    /// Marks this server's public streams as written by the test by hand (the persister's
    /// input, malformed on purpose): they are left out of the stream-contract check
    /// (`StreamCollection`, docs/testing.md).
    public func streamsAreWrittenByHand() {
        lock.withLock { handWritten = true }
    }

    public var url: String { "redis://127.0.0.1:\(port)/0" }

    public init(extraArguments: [String] = []) throws {
        self.extraArguments = extraArguments
        binary = try TestEnvironment.redisServerBinary()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // A free port can be taken by another process (a connection's local port, another
        // test's server) before redis-server binds it; then it exits, and a check that only
        // connects would find the other process. So: its own log says it is ready, else
        // another port.
        var attempt = 0
        while true {
            let port = try FreePort.next()
            if let process = try Self.launch(binary: binary, port: port, directory: directory, extraArguments: extraArguments) {
                self.port = port
                self.process = process
                return
            }
            attempt += 1
            if attempt == 5 { throw TestEnvironment.Missing(description: "redis-server lost five free ports in a row to other processes") }
        }
    }

    deinit {
        lock.withLock {
            collectStreams()
            process?.terminate(signal: SIGKILL)
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts it again on its port (after `stop`).
    public func start() throws {
        guard let started = try Self.launch(binary: binary, port: port, directory: directory, extraArguments: extraArguments) else {
            throw TestEnvironment.Missing(description: "redis-server could not listen on port \(port) again: another process took it")
        }
        lock.withLock { process = started }
    }

    /// SIGTERM and wait: clients see their connections close.
    public func stop() {
        lock.withLock {
            collectStreams()
            process?.terminate()
            process = nil
        }
    }

    public func restart() throws {
        stop()
        try start()
    }

    /// SIGSTOP: the server keeps its sockets but answers nothing.
    public func pause() {
        lock.withLock { process?.signal(SIGSTOP) }
    }

    public func resume() {
        lock.withLock { process?.signal(SIGCONT) }
    }

    /// Before the server goes, its public streams for the stream-contract check (under
    /// `make test` only; the lock is held).
    private func collectStreams() {
        guard let folder = StreamCollection.folder, let process, !process.hasExited else { return }
        process.signal(SIGCONT)  // a test may leave it paused
        collections += 1
        let password = extraArguments.firstIndex(of: "--requirepass").flatMap {
            extraArguments.index(after: $0) < extraArguments.endIndex ? extraArguments[extraArguments.index(after: $0)] : nil
        }
        StreamCollection.collect(
            port: port, password: password, label: "own-\(port)-\(collections)-\(UUID().uuidString.prefix(8))",
            handWritten: handWritten, into: folder
        )
    }

    /// A redis-server on `port`, once its own log says it accepts connections (a log file
    /// per start: `redis-{n}.log`); nil when it exits first (the port was taken).
    static func launch(binary: String, port: Int, directory: URL, extraArguments: [String]) throws -> ChildProcess? {
        let logs = (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.filter { $0.hasSuffix(".log") }.count ?? 0
        let log = directory.appendingPathComponent("redis-\(logs + 1).log")
        let process = try ChildProcess(
            executable: binary,
            arguments: [
                "--port", "\(port)", "--bind", "127.0.0.1", "--dir", directory.path,
                "--save", "", "--appendonly", "no", "--loglevel", "notice",
            ] + extraArguments,
            output: log.path
        )
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if process.hasExited { return nil }
            if let text = try? String(contentsOf: log, encoding: .utf8), text.contains("Ready to accept connections") {
                return process
            }
            usleep(20_000)
        }
        process.terminate(signal: SIGKILL)
        throw TestEnvironment.Missing(description: "redis-server did not start listening on port \(port)")
    }
}
