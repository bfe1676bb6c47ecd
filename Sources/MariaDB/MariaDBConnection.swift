internal import CMariaDB
import Logging

/// One blocking connection to a MariaDB server.
///
/// Every method blocks the calling thread until the server answers (or a timeout of
/// ``MariaDBConfiguration`` expires), so run it on a thread of its own, never on a NIO
/// event loop or in Swift's cooperative pool. A libmariadb handle must not be used by
/// two threads at once, hence the class is deliberately not `Sendable`: it belongs to
/// whatever isolation domain created it (for instance an actor running on a dedicated
/// thread).
///
/// The connection is open for the whole life of the object and closed when it is
/// released; there is no closed-but-alive state. After an error with
/// ``MariaDBError/isConnectionLost`` the object is useless: drop it and open another one.
/// Automatic reconnection is switched off on purpose, since it would silently lose
/// session state and the open transaction.
public final class MariaDBConnection {
    public let configuration: MariaDBConfiguration
    private let handle: UnsafeMutablePointer<MYSQL>
    private var logger: Logger
    /// Nil unless ``MariaDBConfiguration/localData``; the handle's infile handler points at it.
    private let localData: LocalDataOffer?

    /// Connects and logs in, with the timeouts of `configuration` and the `utf8mb4`
    /// character set.
    public init(configuration: MariaDBConfiguration, logger: Logger) throws(MariaDBError) {
        try MariaDBLibrary.ensureInitialized()
        guard let handle = mysql_init(nil) else {
            throw MariaDBError(code: .outOfMemory, message: "mysql_init failed")
        }
        let localData = configuration.localData ? LocalDataOffer() : nil
        do {
            try Self.applyOptions(configuration, to: handle)
            // Before connecting: the handler is in place before the server can ask for a file.
            localData?.install(on: handle)
            try Self.connect(handle, configuration)
        } catch {
            mysql_close(handle)
            throw error
        }
        self.configuration = configuration
        self.handle = handle
        self.localData = localData
        self.logger = logger
        self.logger[metadataKey: "mariadb"] = "\(configuration.endpoint)"
        self.logger.debug("connected to MariaDB", metadata: [
            "server_version": "\(serverVersion)",
            "database": "\(configuration.database ?? "-")",
        ])
    }

    deinit {
        mysql_close(handle)
    }

    // MARK: Statements

    /// Runs one statement and returns the number of rows it changed (for `UPDATE`, the
    /// rows actually changed, not merely matched). A result set, if the statement
    /// produces one, is read and discarded.
    @discardableResult
    public func execute(_ sql: String) throws(MariaDBError) -> UInt64 {
        try send(sql)
        return try affectedRows()
    }

    /// ``execute(_:)`` for a statement built as UTF-8 bytes (a multi-row INSERT of
    /// megabytes is sent as it is, not copied into a string first).
    @discardableResult
    public func execute(utf8 sql: [UInt8]) throws(MariaDBError) -> UInt64 {
        logger.trace("statement", metadata: ["sql": "\(String(decoding: sql, as: UTF8.self))"])
        let status = sql.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { mysql_real_query(handle, $0.baseAddress, UInt($0.count)) }
        }
        try check(status)
        return try affectedRows()
    }

    /// Runs `statement`, a `LOAD DATA LOCAL INFILE` naming `file`, with `contents` as that
    /// file: the rows go from memory, never through the file system. Returns the rows
    /// inserted (with `IGNORE`, the ones that were not there). Needs
    /// ``MariaDBConfiguration/localData``; the server gets `contents` only if it asks for
    /// exactly `file` during this call (``LocalDataOffer``).
    @discardableResult
    public func loadLocalData(_ statement: [UInt8], file: String, contents: [UInt8]) throws(MariaDBError) -> UInt64 {
        guard let localData else {
            throw MariaDBError(code: .unknown, message: "LOAD DATA LOCAL INFILE needs a connection configured with localData")
        }
        return try localData.offering(file, contents) { () throws(MariaDBError) -> UInt64 in try execute(utf8: statement) }
    }

    private func affectedRows() throws(MariaDBError) -> UInt64 {
        if mysql_field_count(handle) > 0 {
            let result = try storeResult()
            mysql_free_result(result)
        }
        let affected = mysql_affected_rows(handle)
        return affected == UInt64.max ? 0 : affected
    }

    /// Runs one statement that returns rows (`SELECT`, `SHOW`, …) and reads them all.
    /// A statement without a result set gives an empty result without columns.
    public func query(_ sql: String) throws(MariaDBError) -> MariaDBResult {
        try send(sql)
        guard mysql_field_count(handle) > 0 else { return MariaDBResult(columns: [], values: []) }
        let result = try storeResult()
        defer { mysql_free_result(result) }

        let columnCount = Int(mysql_num_fields(result))
        var columns: [String] = []
        columns.reserveCapacity(columnCount)
        if let fields = mysql_fetch_fields(result) {
            for index in 0..<columnCount {
                let field = fields[index]
                columns.append(Self.decode(field.name, length: Int(field.name_length)) ?? "")
            }
        }

        var rows: [[String?]] = []
        rows.reserveCapacity(Int(mysql_num_rows(result)))
        while let row = mysql_fetch_row(result) {
            // Lengths rather than C strings: values may contain NUL bytes.
            guard let lengths = mysql_fetch_lengths(result) else { break }
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for index in 0..<columnCount {
                values.append(Self.decode(row[index], length: Int(lengths[index])))
            }
            rows.append(values)
        }
        return MariaDBResult(columns: columns, values: rows)
    }

    /// The `AUTO_INCREMENT` id generated by the last `INSERT` (0 when there was none).
    public var lastInsertID: UInt64 {
        mysql_insert_id(handle)
    }

    // MARK: Session

    /// Makes `name` the default database of the session (`USE name`).
    public func selectDatabase(_ name: String) throws(MariaDBError) {
        let status = name.withCString { mysql_select_db(handle, $0) }
        guard status == 0 else { throw MariaDBError(handle: handle) }
        logger.debug("selected database", metadata: ["database": "\(name)"])
    }

    /// Checks that the server still answers.
    public func ping() throws(MariaDBError) {
        guard mysql_ping(handle) == 0 else { throw MariaDBError(handle: handle) }
    }

    /// The server's version string, for example `10.11.6-MariaDB-0+deb12u1`.
    public var serverVersion: String {
        mysql_get_server_info(handle).map { String(cString: $0) } ?? ""
    }

    // MARK: Transactions

    /// Starts a transaction (`START TRANSACTION`).
    public func beginTransaction() throws(MariaDBError) {
        try execute("START TRANSACTION")
    }

    public func commit() throws(MariaDBError) {
        logger.trace("COMMIT")
        guard mysql_commit(handle) == 0 else { throw MariaDBError(handle: handle) }
    }

    public func rollback() throws(MariaDBError) {
        logger.trace("ROLLBACK")
        guard mysql_rollback(handle) == 0 else { throw MariaDBError(handle: handle) }
    }

    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws
    /// (and rethrows its error; if the rollback fails too, the connection is broken and
    /// the server discards the transaction by itself).
    public func transaction<Result>(_ body: (MariaDBConnection) throws -> Result) throws -> Result {
        try beginTransaction()
        let result: Result
        do {
            result = try body(self)
        } catch {
            do {
                try rollback()
            } catch let rollbackError {
                logger.warning("rollback failed", metadata: ["error": "\(rollbackError)"])
            }
            throw error
        }
        try commit()
        return result
    }

    // MARK: Escaping

    /// Escapes `text` for use between single quotes in a statement, according to the
    /// connection's character set and SQL mode (`mysql_real_escape_string`).
    public func escape(_ text: String) throws(MariaDBError) -> String {
        let source = Array(text.utf8)
        guard !source.isEmpty else { return "" }
        // The documented worst case: every byte escaped, plus the terminating NUL.
        var buffer = [CChar](repeating: 0, count: source.count * 2 + 1)
        let length = source.withUnsafeBufferPointer { from in
            buffer.withUnsafeMutableBufferPointer { to in
                from.withMemoryRebound(to: CChar.self) { from in
                    mysql_real_escape_string(handle, to.baseAddress, from.baseAddress, UInt(from.count))
                }
            }
        }
        guard length != UInt.max, Int(length) < buffer.count else {
            throw MariaDBError(code: .unknown, message: "mysql_real_escape_string could not escape the text")
        }
        return String(decoding: buffer[..<Int(length)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `text` escaped and between single quotes: a string literal ready for a statement.
    public func quote(_ text: String) throws(MariaDBError) -> String {
        "'" + (try escape(text)) + "'"
    }

    /// `name` between backquotes, backquotes inside it doubled: a safe identifier.
    public static func quoteIdentifier(_ name: String) -> String {
        "`" + name.split(separator: "`", omittingEmptySubsequences: false).joined(separator: "``") + "`"
    }

    // MARK: Private

    private func send(_ sql: String) throws(MariaDBError) {
        logger.trace("statement", metadata: ["sql": "\(sql)"])
        // The explicit length lets the statement contain NUL bytes.
        let status = sql.withCString { mysql_real_query(handle, $0, UInt(sql.utf8.count)) }
        try check(status)
    }

    private func check(_ status: Int32) throws(MariaDBError) {
        guard status == 0 else {
            let error = MariaDBError(handle: handle)
            logger.debug("statement failed", metadata: ["error": "\(error)"])
            throw error
        }
    }

    private func storeResult() throws(MariaDBError) -> UnsafeMutablePointer<MYSQL_RES> {
        guard let result = mysql_store_result(handle) else { throw MariaDBError(handle: handle) }
        return result
    }

    private static func decode(_ pointer: UnsafeMutablePointer<CChar>?, length: Int) -> String? {
        guard let pointer else { return nil }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    private static func applyOptions(_ configuration: MariaDBConfiguration, to handle: UnsafeMutablePointer<MYSQL>) throws(MariaDBError) {
        try setOption(handle, MYSQL_OPT_CONNECT_TIMEOUT, seconds(configuration.connectTimeout))
        try setOption(handle, MYSQL_OPT_READ_TIMEOUT, seconds(configuration.readTimeout))
        try setOption(handle, MYSQL_OPT_WRITE_TIMEOUT, seconds(configuration.writeTimeout))
        try setOption(handle, MYSQL_OPT_RECONNECT, my_bool(0))
        // Explicit either way: libmariadb's default may allow it, with a handler reading files.
        try setOption(handle, MYSQL_OPT_LOCAL_INFILE, UInt32(configuration.localData ? 1 : 0))
        // libmariadb takes the host `localhost` to mean the default unix socket; the URL
        // says TCP or socket explicitly, so tell the library which.
        switch configuration.endpoint {
        case .tcp: try setOption(handle, MYSQL_OPT_PROTOCOL, UInt32(MYSQL_PROTOCOL_TCP.rawValue))
        case .unixSocket: try setOption(handle, MYSQL_OPT_PROTOCOL, UInt32(MYSQL_PROTOCOL_SOCKET.rawValue))
        }
        let status = "utf8mb4".withCString { mysql_options(handle, MYSQL_SET_CHARSET_NAME, $0) }
        guard status == 0 else { throw MariaDBError(handle: handle) }
    }

    private static func setOption<Value>(_ handle: UnsafeMutablePointer<MYSQL>, _ option: mysql_option, _ value: Value) throws(MariaDBError) {
        let status = withUnsafePointer(to: value) { mysql_options(handle, option, $0) }
        guard status == 0 else { throw MariaDBError(handle: handle) }
    }

    /// Whole seconds, rounded up, at least 1 (the library's unit; 0 would mean "none").
    private static func seconds(_ duration: Duration) -> UInt32 {
        let (seconds, attoseconds) = duration.components
        let rounded = seconds + (attoseconds > 0 ? 1 : 0)
        return UInt32(clamping: max(1, rounded))
    }

    private static func connect(_ handle: UnsafeMutablePointer<MYSQL>, _ configuration: MariaDBConfiguration) throws(MariaDBError) {
        let host: String?
        let port: UInt32
        let socket: String?
        switch configuration.endpoint {
        case .tcp(let tcpHost, let tcpPort):
            (host, port, socket) = (tcpHost, UInt32(clamping: tcpPort), nil)
        case .unixSocket(let path):
            (host, port, socket) = ("localhost", 0, path)
        }
        let connected = withOptionalCString(host) { host in
            withOptionalCString(configuration.username) { user in
                withOptionalCString(configuration.password) { password in
                    withOptionalCString(configuration.database) { database in
                        withOptionalCString(socket) { socket in
                            mysql_real_connect(handle, host, user, password, database, port, socket, 0) != nil
                        }
                    }
                }
            }
        }
        guard connected else { throw MariaDBError(handle: handle) }
    }
}

@available(*, unavailable, message: "a MariaDB connection must stay on one thread; see MariaDBConnection")
extension MariaDBConnection: Sendable {}

private func withOptionalCString<Result>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> Result) -> Result {
    guard let text else { return body(nil) }
    return text.withCString(body)
}
