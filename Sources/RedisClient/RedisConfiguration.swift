import NIOCore

/// Where Redis is and how to talk to it. Built from a URL:
/// `redis://[user:password@]host[:port][/db]` or `unix:///path/to/socket[?db=N]`.
public struct RedisConfiguration: Sendable, Hashable {
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
        } else {
            throw RedisURLError("expected redis://host:port/db or unix:///path")
        }
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
