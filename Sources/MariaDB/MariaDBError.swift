internal import CMariaDB

/// An error reported by the server or by the client library, with its error number.
///
/// The number tells callers what to do next: a lost connection (``isConnectionLost``)
/// means reconnect and retry, a deadlock or lock wait timeout (``isTransient``) means
/// retry the transaction, a duplicate key (``Code/duplicateEntry``) means the row is
/// already there. Compare ``code`` with the constants in ``Code``.
public struct MariaDBError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A server (1000–1999, 3000 and above) or client library (2000–2999) error number.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        // Client library errors (errmsg.h).
        /// The library failed without a more specific error (also used by this wrapper).
        public static let unknown = Code(CR_UNKNOWN_ERROR)
        /// Could not connect through the unix socket.
        public static let connectionError = Code(CR_CONNECTION_ERROR)
        /// Could not connect to the host and port.
        public static let hostConnectionError = Code(CR_CONN_HOST_ERROR)
        public static let unknownHost = Code(CR_UNKNOWN_HOST)
        /// The server went away between two statements.
        public static let serverGone = Code(CR_SERVER_GONE_ERROR)
        public static let outOfMemory = Code(CR_OUT_OF_MEMORY)
        /// The connection broke during a statement: its outcome is unknown.
        public static let serverLost = Code(CR_SERVER_LOST)
        public static let serverLostExtended = Code(CR_SERVER_LOST_EXTENDED)

        // Server errors (mysqld_error.h).
        public static let accessDenied = Code(ER_ACCESS_DENIED_ERROR)
        public static let unknownDatabase = Code(ER_BAD_DB_ERROR)
        public static let serverShutdown = Code(ER_SERVER_SHUTDOWN)
        public static let duplicateEntry = Code(ER_DUP_ENTRY)
        public static let duplicateEntryWithKeyName = Code(ER_DUP_ENTRY_WITH_KEY_NAME)
        public static let lockWaitTimeout = Code(ER_LOCK_WAIT_TIMEOUT)
        public static let deadlock = Code(ER_LOCK_DEADLOCK)
        public static let connectionKilled = Code(ER_CONNECTION_KILLED)

        public var description: String { String(rawValue) }

        /// Whether the number belongs to the client library rather than the server.
        public var isClientError: Bool { (UInt32(CR_MIN_ERROR)...UInt32(CR_MAX_ERROR)).contains(rawValue) }

        private init(_ value: Int32) { self.rawValue = UInt32(value) }
    }

    public let code: Code
    /// The five-character SQLSTATE, `HY000` when the library gives none.
    public let sqlState: String
    public let message: String

    public init(code: Code, sqlState: String = "HY000", message: String) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
    }

    /// The connection cannot be used any more (or could not be made): close it, open a
    /// new one and retry. After ``Code/serverLost`` a statement may or may not have run,
    /// which is why the persister's writes are idempotent.
    public var isConnectionLost: Bool {
        switch code {
        case .serverGone, .serverLost, .serverLostExtended, .connectionError, .hostConnectionError,
             .unknownHost, .serverShutdown, .connectionKilled:
            true
        default:
            false
        }
    }

    /// The transaction was rolled back by the server (deadlock) or could not take a
    /// lock in time; running it again is expected to succeed.
    public var isTransient: Bool {
        code == .deadlock || code == .lockWaitTimeout
    }

    /// A unique or primary key already holds the value.
    public var isDuplicateKey: Bool {
        code == .duplicateEntry || code == .duplicateEntryWithKeyName
    }

    public var description: String {
        "MariaDB error \(code.rawValue) (\(sqlState)): \(message)"
    }
}

extension MariaDBError {
    /// The last error recorded on a connection handle.
    init(handle: UnsafeMutablePointer<MYSQL>) {
        let number = mysql_errno(handle)
        let message = String(cString: mysql_error(handle))
        let state = mysql_sqlstate(handle).map { String(cString: $0) } ?? "HY000"
        self.init(
            code: number == 0 ? .unknown : Code(rawValue: number),
            sqlState: state.isEmpty ? "HY000" : state,
            message: message.isEmpty ? "unknown error" : message
        )
    }
}
