import Foundation
import Logging
import MariaDB

/// A uniquely named database on the server of `MARIADB_URL`, dropped when the test ends,
/// so that tests can run in parallel and leave nothing behind.
///
/// The credentials and server come from `MARIADB_URL` (its database is ignored). Without
/// `MARIADB_URL` the test fails with a message saying how to run it; it never skips.
///
/// The set-up and tear-down are a few blocking statements on the calling thread, which
/// is fine in a test and nowhere else.
public struct MariaDBTestDatabase: Sendable {
    /// The throwaway database's name: `test_{prefix}_{pid}_{random}`.
    public let name: String
    /// The server and account, without a default database.
    public let serverConfiguration: MariaDBConfiguration
    /// A `mariadb://` URL naming the throwaway database (for option parsing, processes).
    public let url: String

    /// The server with the throwaway database as the session's default database.
    public var configuration: MariaDBConfiguration {
        var configuration = serverConfiguration
        configuration.database = name
        return configuration
    }

    /// A logger for tests: warnings and worse only.
    public static var logger: Logger {
        var logger = Logger(label: "test.mariadb")
        logger.logLevel = .warning
        return logger
    }

    /// Runs `body` with a fresh database name, then drops that database whatever happens.
    /// With `create: false` the database does not exist yet when `body` starts (to test
    /// code that creates it).
    public static func with<Result>(
        prefix: String = "db",
        create: Bool = true,
        _ body: (MariaDBTestDatabase) async throws -> Result
    ) async throws -> Result {
        let database = try make(prefix: prefix)
        let quoted = MariaDBConnection.quoteIdentifier(database.name)
        if create {
            let connection = try database.connectToServer()
            try connection.execute("CREATE DATABASE \(quoted) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        }
        let result: Result
        do {
            result = try await body(database)
        } catch {
            _ = try? database.connectToServer().execute("DROP DATABASE IF EXISTS \(quoted)")
            throw error
        }
        try database.connectToServer().execute("DROP DATABASE IF EXISTS \(quoted)")
        return result
    }

    /// A new connection to the server, without a default database.
    public func connectToServer() throws -> MariaDBConnection {
        try MariaDBConnection(configuration: serverConfiguration, logger: Self.logger)
    }

    /// A new connection with the throwaway database as default database (it must exist).
    public func connect() throws -> MariaDBConnection {
        try MariaDBConnection(configuration: configuration, logger: Self.logger)
    }

    private static func make(prefix: String) throws -> MariaDBTestDatabase {
        let serverURL = try TestEnvironment.mariaDBURL()
        let parsed: MariaDBConfiguration
        do {
            parsed = try MariaDBConfiguration(url: serverURL)
        } catch {
            throw TestEnvironment.Missing(description: "MARIADB_URL '\(serverURL)' is not usable: \(error)")
        }
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let cleanPrefix = String(String.UnicodeScalarView(prefix.unicodeScalars.filter {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }).prefix(20))
        let name = "test_\(cleanPrefix)_\(getpid())_\(suffix)"
        return MariaDBTestDatabase(name: name, serverConfiguration: parsed.withoutDatabase, url: replacingDatabase(in: serverURL, with: name))
    }

    /// `mariadb://u@h:p/old?x` → `mariadb://u@h:p/new?x`. A `/` in the credentials is
    /// percent-encoded in a valid URL, so the last `/` before the query starts the path.
    private static func replacingDatabase(in url: String, with name: String) -> String {
        let query = url.firstIndex(of: "?").map { String(url[$0...]) } ?? ""
        let withoutQuery = url.firstIndex(of: "?").map { String(url[..<$0]) } ?? url
        guard let slash = withoutQuery.lastIndex(of: "/") else { return url }
        return withoutQuery[..<slash] + "/" + name + query
    }
}

extension MariaDBTestDatabase {
    /// An existing database named by `url` (a server the test started itself); never
    /// dropped by this type.
    public static func external(url: String) throws -> MariaDBTestDatabase {
        let parsed = try MariaDBConfiguration(url: url)
        return MariaDBTestDatabase(name: parsed.database ?? "", serverConfiguration: parsed.withoutDatabase, url: url)
    }
}
