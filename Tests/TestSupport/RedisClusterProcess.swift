import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A Redis Cluster of the test's own: six redis-server nodes on loopback, three
/// primaries with one replica each (`redis-cli --cluster create … --cluster-replicas 1`),
/// each in a folder of its own under one temporary folder. A node listens on its port and
/// on port + 10000 (the cluster bus), so both are picked free. A low
/// `cluster-node-timeout` lets a replica take over from a killed primary in seconds.
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
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-cluster-test-\(UUID().uuidString)")
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

    /// `redis-cli` with `arguments` against the node on `port` (or the cluster commands
    /// of `--cluster`); its output.
    @discardableResult
    public func cli(_ port: Int, _ arguments: [String]) throws -> String {
        try run(["-h", "127.0.0.1", "-p", "\(port)"] + arguments)
    }

    /// The ports of the primaries and, for each, its replicas, as the node on `port`
    /// (any live one by default) sees them in `CLUSTER NODES`.
    public func roles(askingPort: Int? = nil) throws -> (primaries: [Int], replicaOf: [Int: Int]) {
        let port = try askingPort ?? liveNodes().first.orThrow("no live node")
        let lines = try cli(port, ["CLUSTER", "NODES"]).split(separator: "\n")
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
        let lines = try cli(port, ["CLUSTER", "NODES"]).split(separator: "\n")
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
        try cli(port, ["CLUSTER", "MYID"]).trimmingCharacters(in: .whitespacesAndNewlines)
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
        let answer = try cli(port, ["CLUSTER", "FAILOVER"])
        guard answer.contains("OK") else { throw TestEnvironment.Missing(description: "CLUSTER FAILOVER on \(port): \(answer)") }
    }

    /// Waits until every live node says `cluster_state:ok` with all 16384 slots served,
    /// knows every live node, and every replica's link to its primary is up.
    public func waitUntilHealthy(timeout: TimeInterval = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            if let problem = try healthProblem() { last = problem } else { return }
            usleep(100_000)
        }
        throw TestEnvironment.Missing(description: "the cluster did not become healthy in \(timeout) s: \(last)")
    }

    private func healthProblem() throws -> String? {
        let live = liveNodes()
        for port in live {
            let info = try cli(port, ["CLUSTER", "INFO"])
            for expected in ["cluster_state:ok", "cluster_slots_ok:16384", "cluster_slots_pfail:0", "cluster_slots_fail:0"]
            where !info.contains(expected) {
                return "node \(port): no \(expected)"
            }
            let replication = try cli(port, ["INFO", "replication"])
            if replication.contains("role:slave") && !replication.contains("master_link_status:up") {
                return "replica \(port): link to its primary not up"
            }
        }
        let roles = try roles()
        if roles.primaries.count != 3 { return "\(roles.primaries.count) primaries" }
        return nil
    }

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

extension Optional {
    fileprivate func orThrow(_ message: String) throws -> Wrapped {
        guard let self else { throw TestEnvironment.Missing(description: message) }
        return self
    }
}
