internal import CMariaDB

/// One-time initialisation of libmariadb.
///
/// `mysql_library_init` is not thread-safe, and `mysql_init` calls it lazily when nobody
/// did, so two threads opening their first connections at the same time could race
/// inside it. Every connection goes through ``ensureInitialized()`` first; a `static let`
/// is initialised exactly once, under a lock, by the Swift runtime.
///
/// Connector/C 3 keeps no per-thread state (`mysql_thread_init` and `mysql_thread_end`
/// are no-ops there), so nothing is needed per thread. `mysql_library_end` is never
/// called: the library lives as long as the process.
enum MariaDBLibrary {
    private static let initializationResult: Int32 = mysql_server_init(0, nil, nil)  // = mysql_library_init

    static func ensureInitialized() throws(MariaDBError) {
        guard initializationResult == 0 else {
            throw MariaDBError(code: .unknown, message: "mysql_library_init failed (\(initializationResult))")
        }
    }

    /// The version of the client library in use, for example `3.3.8`.
    static var clientVersion: String {
        String(cString: mysql_get_client_info())
    }
}
