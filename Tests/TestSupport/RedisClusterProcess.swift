import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A Redis Cluster of the test's own: six redis-server nodes on loopback, three
/// primaries with one replica each (`redis-cli --cluster create … --cluster-replicas 1`),
/// each in a folder of its own under one temporary folder. A node listens on its port and
/// on port + 10000 (the cluster bus), so both are picked free. A low
/// `cluster-node-timeout` lets a replica take over from a killed primary in seconds.
/// Its methods block their thread (they wait for processes): suites that use it run
/// `.offCooperativePool`.
public final class RedisClusterProcess: @unchecked Sendable {
    public static let nodeCount = 6
    public let ports: [Int]
    public let directory: URL
    public let password: String?
    private let binary: String
    private let cli: String
    private let arguments: [Int: [String]]
    private var processes: [Int: ChildProcess] = [:]
    private let lock = NSLock()

    /// `redis-cluster://[:password@]127.0.0.1:p1,127.0.0.1:p2,…` naming every node.
    public var url: String {
        let credentials = password.map { ":\($0)@" } ?? ""
        return "redis-cluster://" + credentials + ports.map { "127.0.0.1:\($0)" }.joined(separator: ",")
    }

    public init(password: String? = nil, nodeTimeoutMilliseconds: Int = 1000) throws {
        self.password = password
        binary = try TestEnvironment.redisServerBinary()
        let sibling = URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent("redis-cli").path
        cli = FileManager.default.isExecutableFile(atPath: sibling) ? sibling : "/usr/bin/redis-cli"
        // In memory when the machine has it: every node fsyncs its nodes.conf at each change
        // of the cluster's state, and on a busy disk those stalled the other suites' writes.
        let memory = URL(fileURLWithPath: "/dev/shm")
        let parent = FileManager.default.isWritableFile(atPath: memory.path) ? memory : FileManager.default.temporaryDirectory
        directory = parent.appendingPathComponent("redis-cluster-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var ports: [Int] = []
        var arguments: [Int: [String]] = [:]
        var processes: [Int: ChildProcess] = [:]
        while ports.count < Self.nodeCount {
            let port = try FreePort.nextPair(offset: 10_000)
            let folder = directory.appendingPathComponent("\(port)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var nodeArguments = [
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "\(nodeTimeoutMilliseconds)",
                // A replica takes over however long it was cut off (the tests kill primaries
                // seconds apart).
                "--cluster-replica-validity-factor", "0",
                // Replicas sync at once (the default waits 5 s for more replicas).
                "--repl-diskless-sync-delay", "0",
            ]
            if let password { nodeArguments += ["--requirepass", password, "--masterauth", password] }
            // A port taken between the check and the bind: another pair.
            guard let process = try RedisServerProcess.launch(
                binary: binary, port: port, directory: folder, extraArguments: nodeArguments
            ) else { continue }
            ports.append(port)
            arguments[port] = nodeArguments
            processes[port] = process
        }
        self.ports = ports
        self.arguments = arguments
        self.processes = processes
        let created = try run(["--cluster", "create"] + ports.map { "127.0.0.1:\($0)" } + ["--cluster-replicas", "1", "--cluster-yes"])
        guard created.contains("[OK] All 16384 slots covered") else {
            throw TestEnvironment.Missing(description: "redis-cli --cluster create failed: \(created)")
        }
        try waitUntilHealthy()
    }

    deinit {
        lock.withLock {
            for process in processes.values { process.terminate(signal: SIGKILL) }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: - Inspecting

    /// Sends one command to the node on `port` (AUTH first when the cluster has a
    /// password) and returns its reply as text: a string as it is, an error with its
    /// code (`MOVED 3999 …`), an integer in digits, an array's elements one per line. A
    /// socket, not redis-cli: the tests poll, and a process per poll on two cores slowed
    /// every other suite.
    @discardableResult
    public func send(_ port: Int, _ arguments: [String]) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestEnvironment.Missing(description: "no socket") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = FreePort.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestEnvironment.Missing(description: "node \(port) refused the connection") }
        var request: [UInt8] = []
        let commands = (password.map { [["AUTH", $0]] } ?? []) + [arguments]
        for command in commands {
            request += Array("*\(command.count)\r\n".utf8)
            for argument in command { request += Array("$\(argument.utf8.count)\r\n\(argument)\r\n".utf8) }
        }
        guard request.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == request.count else {
            throw TestEnvironment.Missing(description: "node \(port): write failed")
        }
        var reader = ReplyReader(fd: fd)
        if password != nil { _ = try reader.reply() }
        return try reader.reply()
    }

    /// The ports of the primaries and, for each, its replicas, as the node on `port`
    /// (any live one by default) sees them in `CLUSTER NODES`.
    public func roles(askingPort: Int? = nil) throws -> (primaries: [Int], replicaOf: [Int: Int]) {
        let port = try askingPort ?? liveNodes().first.orThrow("no live node")
        let lines = try send(port, ["CLUSTER", "NODES"]).split(separator: "\n")
        var idToPort: [String: Int] = [:]
        var primaries: [Int] = []
        var masterIDOfReplica: [Int: String] = [:]
        for line in lines {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 8, let portText = fields[1].split(separator: "@").first?.split(separator: ":").last,
                  let nodePort = Int(portText) else { continue }
            idToPort[fields[0]] = nodePort
            let flags = fields[2]
            if flags.contains("fail") && !flags.contains("fail?") { continue }
            if flags.contains("master") {
                primaries.append(nodePort)
            } else if flags.contains("slave") {
                masterIDOfReplica[nodePort] = fields[3]
            }
        }
        var replicaOf: [Int: Int] = [:]
        for (replica, masterID) in masterIDOfReplica { replicaOf[replica] = idToPort[masterID] }
        return (primaries.sorted(), replicaOf)
    }

    /// The port of the primary that serves `slot`, as the node on `askingPort` sees it.
    public func primary(ofSlot slot: Int, askingPort: Int? = nil) throws -> Int {
        let port = try askingPort ?? liveNodes().first.orThrow("no live node")
        let lines = try send(port, ["CLUSTER", "NODES"]).split(separator: "\n")
        for line in lines {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 9, fields[2].contains("master"), !fields[2].contains("fail"),
                  let nodePort = fields[1].split(separator: "@").first?.split(separator: ":").last.flatMap({ Int($0) })
            else { continue }
            for range in fields[8...] where !range.hasPrefix("[") {
                let bounds = range.split(separator: "-").compactMap { Int($0) }
                if let low = bounds.first, (low...(bounds.last ?? low)).contains(slot) { return nodePort }
            }
        }
        throw TestEnvironment.Missing(description: "no primary serves slot \(slot)")
    }

    /// The node ID of the node on `port`.
    public func nodeID(_ port: Int) throws -> String {
        try send(port, ["CLUSTER", "MYID"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func liveNodes() -> [Int] {
        lock.withLock { ports.filter { processes[$0].map { !$0.hasExited } ?? false } }
    }

    // MARK: - Breaking and repairing

    /// SIGKILL: the node is gone at once, as in a crash.
    public func kill(_ port: Int) {
        lock.withLock {
            processes[port]?.terminate(signal: SIGKILL)
            processes[port] = nil
        }
    }

    /// SIGSTOP: the node keeps its sockets and answers nothing (a replica that falls behind).
    public func pause(_ port: Int) {
        lock.withLock { processes[port]?.signal(SIGSTOP) }
    }

    /// SIGCONT after `pause`.
    public func resume(_ port: Int) {
        lock.withLock { processes[port]?.signal(SIGCONT) }
    }

    /// Starts a killed node again, with its `nodes.conf`: it rejoins the cluster.
    public func restart(_ port: Int) throws {
        let folder = directory.appendingPathComponent("\(port)")
        guard let process = try RedisServerProcess.launch(
            binary: binary, port: port, directory: folder, extraArguments: arguments[port] ?? []
        ) else {
            throw TestEnvironment.Missing(description: "redis-server could not listen on port \(port) again")
        }
        lock.withLock { processes[port] = process }
    }

    /// `CLUSTER FAILOVER` on a replica: it and its primary swap roles, losing nothing.
    public func failover(toReplica port: Int) throws {
        let answer = try send(port, ["CLUSTER", "FAILOVER"])
        guard answer == "OK" else { throw TestEnvironment.Missing(description: "CLUSTER FAILOVER on \(port): \(answer)") }
    }

    /// Waits until every live node says `cluster_state:ok` with all 16384 slots served,
    /// they all agree on who is primary and who replicates whom, and every replica's link
    /// to its primary is up.
    public func waitUntilHealthy(timeout: TimeInterval = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            if let problem = try healthProblem() { last = problem } else { return }
            usleep(200_000)
        }
        throw TestEnvironment.Missing(description: "the cluster did not become healthy in \(timeout) s: \(last)")
    }

    private func healthProblem() throws -> String? {
        let live = liveNodes()
        for port in live {
            let info = try send(port, ["CLUSTER", "INFO"])
            for expected in ["cluster_state:ok", "cluster_slots_ok:16384", "cluster_slots_pfail:0", "cluster_slots_fail:0"]
            where !info.contains(expected) {
                return "node \(port): no \(expected)"
            }
            let replication = try send(port, ["INFO", "replication"])
            if replication.contains("role:slave") && !replication.contains("master_link_status:up") {
                return "replica \(port): link to its primary not up"
            }
        }
        // Every node sees the same primaries and replicas (a restarted node believes its
        // old role until the others tell it otherwise).
        let views = try live.map { try roles(askingPort: $0) }
        guard let first = views.first else { return "no live node" }
        if first.primaries.count != 3 { return "\(first.primaries.count) primaries" }
        if let other = views.first(where: { $0.primaries != first.primaries || $0.replicaOf != first.replicaOf }) {
            return "nodes disagree on roles: \(first) and \(other)"
        }
        if first.primaries.count + first.replicaOf.count != live.count { return "not every live node has a role yet" }
        return nil
    }

    /// redis-cli, for `--cluster create`.
    private func run(_ arguments: [String]) throws -> String {
        let output = directory.appendingPathComponent("cli-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: output) }
        let auth = password.map { ["-a", $0, "--no-auth-warning"] } ?? []
        let process = try ChildProcess(executable: cli, arguments: auth + arguments, output: output.path)
        guard process.waitForExit(timeout: 30) != nil else {
            process.terminate(signal: SIGKILL)
            throw TestEnvironment.Missing(description: "redis-cli \(arguments.joined(separator: " ")) did not finish")
        }
        return (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    }
}

/// Reads RESP2 replies from a blocking socket, as text (``RedisClusterProcess/send(_:_:)``).
private struct ReplyReader {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var position = 0

    init(fd: Int32) { self.fd = fd }

    mutating func reply() throws -> String {
        let line = try readLine()
        guard let kind = line.first else { throw TestEnvironment.Missing(description: "empty reply line") }
        let rest = String(line.dropFirst())
        switch kind {
        case "+", "-", ":": return rest
        case "$":
            guard let length = Int(rest) else { throw TestEnvironment.Missing(description: "bad bulk length \(rest)") }
            guard length >= 0 else { return "" }
            let bytes = try read(length + 2)
            return String(decoding: bytes.dropLast(2), as: UTF8.self)
        case "*":
            guard let count = Int(rest) else { throw TestEnvironment.Missing(description: "bad array length \(rest)") }
            return try (0..<max(count, 0)).map { _ in try reply() }.joined(separator: "\n")
        default:
            throw TestEnvironment.Missing(description: "unexpected reply \(line)")
        }
    }

    private mutating func readLine() throws -> String {
        var line: [UInt8] = []
        while true {
            let byte = try read(1)[0]
            if byte == UInt8(ascii: "\n"), line.last == UInt8(ascii: "\r") { return String(decoding: line.dropLast(), as: UTF8.self) }
            line.append(byte)
        }
    }

    private mutating func read(_ count: Int) throws -> [UInt8] {
        while buffer.count - position < count {
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard received > 0 else { throw TestEnvironment.Missing(description: "the node closed the connection or timed out") }
            buffer.append(contentsOf: chunk[..<received])
        }
        defer { position += count }
        return Array(buffer[position..<(position + count)])
    }
}

extension Optional {
    fileprivate func orThrow(_ message: String) throws -> Wrapped {
        guard let self else { throw TestEnvironment.Missing(description: message) }
        return self
    }
}
