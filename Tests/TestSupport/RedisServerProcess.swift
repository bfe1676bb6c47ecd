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
    private static func launch(binary: String, port: Int, directory: URL, extraArguments: [String]) throws -> ChildProcess? {
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

/// Loopback ports for the test's servers, below the kernel's ephemeral range
/// (`ip_local_port_range`, 32768–60999 by default): a port from that range (what `bind` to
/// port 0 gives) can be taken as the local port of one of the thousands of connections the
/// suites open between being found free and being bound by the server (seen: a bridge's
/// `Address already in use`, a test talking to another test's Redis). Below it only
/// servers bind, and each port is handed out once per run of the tests.
public enum FreePort {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cursor = 0
    private static let range: Range<Int> = {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let low = text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32768
        return 10_000..<max(10_001, min(low, 65_536))
    }()

    public static func next() throws -> Int {
        try lock.withLock {
            if cursor == 0 { cursor = Int.random(in: range) }
            for _ in 0..<range.count {
                let port = cursor
                cursor = cursor + 1 < range.upperBound ? cursor + 1 : range.lowerBound
                if canBind(port) { return port }
            }
            throw TestEnvironment.Missing(description: "no free loopback port in \(range)")
        }
    }

    private static func canBind(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    public static func isListening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
