/// Where a MariaDB server is, who to log in as, and how long to wait for it.
///
/// Built from a URL: `mariadb://user[:password]@host[:port]/database`, with an optional
/// `?socket=/path/to/mysqld.sock` to connect through a unix socket instead (the host may
/// then be left out: `mariadb://root@/chat?socket=/run/mysqld/mysqld.sock`). The user and
/// password are percent-decoded, so `p%40ss` is the password `p@ss`.
public struct MariaDBConfiguration: Sendable, Hashable, CustomStringConvertible {
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

    public static let defaultPort = 3306

    public var endpoint: Endpoint
    public var username: String
    public var password: String?
    /// The default database of the session; `nil` connects without one (as `migrate`
    /// does before the database exists).
    public var database: String?
    /// Longest wait for the TCP connection and the handshake (whole seconds, at least 1).
    public var connectTimeout: Duration = .seconds(5)
    /// Longest wait for a reply to one read; a statement running longer fails with
    /// ``MariaDBError/Code/serverLost`` (whole seconds, at least 1).
    public var readTimeout: Duration = .seconds(60)
    /// Longest wait for one write to the socket (whole seconds, at least 1).
    public var writeTimeout: Duration = .seconds(60)
    /// Whether the connection may send rows from memory with `LOAD DATA LOCAL INFILE`
    /// (``MariaDBConnection/loadLocalData(_:file:contents:)``). Off unless a writer asks:
    /// then only what is offered for the statement under way is served, never a file
    /// (``LocalDataOffer``); off, the server is not even told the client can.
    public var localData = false

    public init(endpoint: Endpoint, username: String, password: String? = nil, database: String? = nil) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses `mariadb://user[:password]@host[:port]/database[?socket=/path]`
    /// (`mysql://` is accepted as a synonym). The database is required. A `/`, `?` or `%`
    /// in the user or password must be percent-encoded.
    public init(url: String) throws(MariaDBConfigurationError) {
        let rest: Substring
        if let colon = url.firstIndex(of: ":"), ["mariadb", "mysql"].contains(url[..<colon].lowercased()),
           url[colon...].hasPrefix("://") {
            rest = url[colon...].dropFirst(3)
        } else {
            throw MariaDBConfigurationError("expected mariadb://user[:password]@host[:port]/database")
        }

        let (beforeQuery, query) = rest.splitOnce("?")
        var socketPath: String?
        for item in (query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let (key, value) = item.splitOnce("=")
            switch key {
            case "socket":
                guard let path = value.map({ String($0) }), path.hasPrefix("/"), path.count > 1 else {
                    throw MariaDBConfigurationError("socket= needs an absolute path")
                }
                socketPath = path
            default:
                throw MariaDBConfigurationError("unknown parameter '\(key)' (only socket= is supported)")
            }
        }

        let (authority, path) = beforeQuery.splitOnce("/")
        guard let at = authority.lastIndex(of: "@") else {
            throw MariaDBConfigurationError("missing user: expected mariadb://user@host/database")
        }
        let (userText, passwordText) = authority[..<at].splitOnce(":")
        let username = try percentDecoded(userText, what: "user")
        guard !username.isEmpty else { throw MariaDBConfigurationError("empty user name") }
        let password = try passwordText.map { text throws(MariaDBConfigurationError) in try percentDecoded(text, what: "password") }

        let hostPort = authority[authority.index(after: at)...]
        let endpoint: Endpoint
        if let socketPath {
            endpoint = .unixSocket(path: socketPath)
        } else {
            endpoint = try Self.parseHostPort(hostPort)
        }

        guard let database = path.map({ String($0) }), !database.isEmpty else {
            throw MariaDBConfigurationError("missing database: expected mariadb://user@host/database")
        }
        try Self.validateDatabaseName(database)

        self.init(endpoint: endpoint, username: username, password: password, database: database)
    }

    /// The same server and account without a default database.
    public var withoutDatabase: MariaDBConfiguration {
        var copy = self
        copy.database = nil
        return copy
    }

    /// The configuration as a URL with the password masked, safe to log.
    public var description: String {
        let user = username + (password == nil ? "" : ":***")
        let database = self.database ?? ""
        switch endpoint {
        case .tcp:
            return "mariadb://\(user)@\(endpoint)/\(database)"
        case .unixSocket(let path):
            return "mariadb://\(user)@/\(database)?socket=\(path)"
        }
    }

    /// Database names are restricted to `A–Z a–z 0–9 _ $ -`, at most 64 characters:
    /// a subset of what MariaDB allows that needs no thought when quoted or put in a path.
    public static func validateDatabaseName(_ name: String) throws(MariaDBConfigurationError) {
        guard !name.isEmpty, name.utf8.count <= 64 else {
            throw MariaDBConfigurationError("database name must be 1 to 64 characters")
        }
        for scalar in name.unicodeScalars {
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", "$", "-": continue
            default: throw MariaDBConfigurationError("database name '\(name)' may only contain letters, digits, '_', '$' and '-'")
            }
        }
    }

    private static func parseHostPort(_ text: Substring) throws(MariaDBConfigurationError) -> Endpoint {
        let host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {  // [::1]:3306
            guard let close = text.firstIndex(of: "]") else { throw MariaDBConfigurationError("unclosed '[' in host") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw MariaDBConfigurationError("unexpected '\(after)' after the host")
            }
        } else {
            let split = text.splitOnce(":")
            host = split.0
            portText = split.1
        }
        guard !host.isEmpty else { throw MariaDBConfigurationError("missing host (or add ?socket=/path)") }
        var port = defaultPort
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw MariaDBConfigurationError("bad port '\(portText)'")
            }
            port = value
        }
        return .tcp(host: String(host), port: port)
    }
}

extension Substring {
    /// Splits at the first `separator`: `("a", "b")` for "a?b", `("a", nil)` without one.
    fileprivate func splitOnce(_ separator: Character) -> (Substring, Substring?) {
        guard let position = firstIndex(of: separator) else { return (self, nil) }
        return (self[..<position], self[index(after: position)...])
    }
}

/// Decodes `%XX` escapes; a malformed escape or bytes that are not UTF-8 are an error
/// rather than a silently different credential.
private func percentDecoded(_ text: Substring, what: String) throws(MariaDBConfigurationError) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count)
    var iterator = text.utf8.makeIterator()
    while let byte = iterator.next() {
        guard byte == UInt8(ascii: "%") else {
            bytes.append(byte)
            continue
        }
        guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
            throw MariaDBConfigurationError("bad percent escape in the \(what)")
        }
        bytes.append(high << 4 | low)
    }
    guard let decoded = String(validating: bytes, as: UTF8.self) else {
        throw MariaDBConfigurationError("the \(what) is not UTF-8 once percent-decoded")
    }
    return decoded
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
