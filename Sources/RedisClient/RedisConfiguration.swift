import NIOCore

/// Where Redis is and how to talk to it. Built from a URL:
/// `redis://[user:password@]host[:port][/db]`, `unix:///path/to/socket[?db=N]`, or for a
/// Redis Cluster `redis-cluster://[user:password@]host:port[,host:port…]` (the nodes
/// to ask for the slot map first; any one that answers is enough).
public struct RedisConfiguration: Sendable, Hashable {
    /// One server, or a cluster found through some of its nodes.
    public enum Topology: Sendable, Hashable {
        case single
        /// `endpoint` is the first of `seeds`.
        case cluster(seeds: [Endpoint])
    }

    public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unixSocket(path: String)

        public var description: String {
            switch self {
            case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .unixSocket(let path): "unix:\(path)"
            }
        }
    }

    public var endpoint: Endpoint
    public var topology: Topology = .single
    public var username: String?
    public var password: String?
    public var database: Int
    /// Connections in the command pool (pub/sub uses its own).
    public var poolSize: Int = 4
    /// Every command fails with `RedisError.timeout` if no reply arrives in this time.
    public var commandTimeout: TimeAmount = .seconds(2)
    public var connectTimeout: TimeAmount = .seconds(1)
    /// Reconnection delay: doubles from `minimum` up to `maximum`, with jitter.
    public var reconnectBackoff: ClosedRange<TimeAmount> = .milliseconds(10) ... .seconds(1)

    public init(endpoint: Endpoint, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
    }

    public init(url: String) throws(RedisURLError) {
        if url.hasPrefix("unix://") {
            try self.init(unixURL: String(url.dropFirst("unix://".count)))
        } else if url.hasPrefix("redis://") {
            try self.init(tcpURL: String(url.dropFirst("redis://".count)))
        } else if url.hasPrefix("redis-cluster://") {
            try self.init(clusterURL: String(url.dropFirst("redis-cluster://".count)))
        } else {
            throw RedisURLError("expected redis://host:port/db, redis-cluster://host:port[,host:port…] or unix:///path")
        }
    }

    /// The same settings for one node of the cluster (connections to one server).
    func forNode(_ endpoint: Endpoint) -> RedisConfiguration {
        var node = self
        node.endpoint = endpoint
        node.topology = .single
        return node
    }

    private init(clusterURL rest: String) throws(RedisURLError) {
        var rest = rest
        var credentials: String?
        if let at = rest.lastIndex(of: "@") {
            credentials = String(rest[..<at])
            rest = String(rest[rest.index(after: at)...])
        }
        // Cluster nodes have one database only; "/0" is allowed as a no-op.
        let (nodes, path) = rest.splitOnce("/")
        if let path, !path.isEmpty, path != "0" { throw RedisURLError("a cluster has database 0 only") }
        var seeds: [Endpoint] = []
        var username: String?
        var password: String?
        for node in nodes.split(separator: ",", omittingEmptySubsequences: false) {
            let single = try RedisConfiguration(tcpURL: (credentials.map { $0 + "@" } ?? "") + node)
            seeds.append(single.endpoint)
            (username, password) = (single.username, single.password)
        }
        guard let first = seeds.first else { throw RedisURLError("missing host") }
        self.init(endpoint: first, username: username, password: password)
        topology = .cluster(seeds: seeds)
    }

    private init(unixURL rest: String) throws(RedisURLError) {
        let (path, query) = rest.splitOnce("?")
        guard path.hasPrefix("/"), path.count > 1 else { throw RedisURLError("a unix socket URL needs an absolute path") }
        var database = 0
        var password: String?
        for item in (query ?? "").split(separator: "&") {
            let (key, value) = String(item).splitOnce("=")
            switch key {
            case "db": database = try Self.parseDatabase(value ?? "")
            case "password": password = value.map(percentDecoded)
            default: throw RedisURLError("unknown parameter '\(key)'")
            }
        }
        self.init(endpoint: .unixSocket(path: path), password: password, database: database)
    }

    private init(tcpURL rest: String) throws(RedisURLError) {
        var rest = rest
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = String(rest[..<at])
            rest = String(rest[rest.index(after: at)...])
            let (user, pass) = credentials.splitOnce(":")
            if let pass {
                username = user.isEmpty ? nil : percentDecoded(user)
                password = percentDecoded(pass)
            } else {
                password = percentDecoded(user)  // redis://secret@host: a password alone
            }
        }
        let (hostPort, path) = rest.splitOnce("/")
        var host: String
        var portText: String?
        if hostPort.hasPrefix("[") {  // [::1]:6379
            guard let close = hostPort.firstIndex(of: "]") else { throw RedisURLError("unclosed '[' in host") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { portText = String(after.dropFirst()) } else if !after.isEmpty { throw RedisURLError("bad host") }
        } else {
            (host, portText) = hostPort.splitOnce(":")
        }
        guard !host.isEmpty else { throw RedisURLError("missing host") }
        var port = 6379
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else { throw RedisURLError("bad port '\(portText)'") }
            port = value
        }
        var database = 0
        if let path, !path.isEmpty { database = try Self.parseDatabase(path) }
        self.init(endpoint: .tcp(host: host, port: port), username: username, password: password, database: database)
    }

    private static func parseDatabase(_ text: String) throws(RedisURLError) -> Int {
        guard let value = Int(text), (0...65535).contains(value) else { throw RedisURLError("bad database number '\(text)'") }
        return value
    }
}

public struct RedisURLError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    /// Splits at the first `separator`: `("a", "b")` for "a?b", `("a", nil)` without one.
    fileprivate func splitOnce(_ separator: Character) -> (String, String?) {
        guard let index = firstIndex(of: separator) else { return (self, nil) }
        return (String(self[..<index]), String(self[self.index(after: index)...]))
    }
}

private func percentDecoded(_ text: String) -> String {
    var bytes: [UInt8] = []
    var iterator = Array(text.utf8).makeIterator()
    while let byte = iterator.next() {
        if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
           let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
            bytes.append(value)
        } else {
            bytes.append(byte)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}
