import Foundation
import MariaDB
import Testing
import TestSupport

/// Against the real server of MARIADB_URL.
@Suite("MariaDB connection", .offCooperativePool)
struct MariaDBConnectionTests {
    @Test func sessionUsesUTF8MB4() async throws {
        try await MariaDBTestDatabase.with(prefix: "charset") { database in
            let connection = try database.connect()
            let row = try #require(try connection.query(
                "SELECT @@character_set_client AS client, @@character_set_results AS results, @@character_set_connection AS conn, DATABASE() AS db"
            ).first)
            #expect(row["client"] == "utf8mb4")
            #expect(row["results"] == "utf8mb4")
            #expect(row["conn"] == "utf8mb4")
            #expect(row["db"] == database.name)
        }
    }

    @Test func chineseAndEmojiRoundTrip() async throws {
        try await MariaDBTestDatabase.with(prefix: "utf8") { database in
            let connection = try database.connect()
            try connection.execute("CREATE TABLE t (id INT PRIMARY KEY, v TEXT) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci")
            let texts = [
                "你好，世界！用户[张三]申请添加您为好友",
                "emoji 👋🏽🧑‍🤝‍🧑😀 and 𠮷 (outside the BMP)",
                "quotes ' \" \\ back\\slash, newline\n, tab\t, and a NUL \u{0} byte",
                "",
            ]
            for (index, text) in texts.enumerated() {
                #expect(try connection.execute("INSERT INTO t VALUES (\(index), \(try connection.quote(text)))") == 1)
            }
            let result = try connection.query("SELECT id, v, CHAR_LENGTH(v) AS characters FROM t ORDER BY id")
            #expect(result.columns == ["id", "v", "characters"])
            #expect(result.map { $0["v"] } == texts)
            #expect(result.map { $0["characters"] } == texts.map { String($0.unicodeScalars.count) })
        }
    }

    @Test func nullIsNilAndColumnsAreNamed() async throws {
        try await MariaDBTestDatabase.with(prefix: "null") { database in
            let connection = try database.connect()
            let result = try connection.query("SELECT NULL AS a, '' AS b, 42 AS c")
            let row = try #require(result.first)
            #expect(result.count == 1)
            #expect(row["a"] == nil && row.hasColumn("a"))
            #expect(row["b"] == "")
            #expect(row["C"] == "42")
            #expect(row["missing"] == nil && !row.hasColumn("missing"))
            #expect(try connection.query("DO 1").isEmpty)
        }
    }

    @Test func transactionsCommitOrRollBack() async throws {
        struct Abort: Error {}
        try await MariaDBTestDatabase.with(prefix: "tx") { database in
            let connection = try database.connect()
            try connection.execute("CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB")
            try connection.transaction { try $0.execute("INSERT INTO t VALUES (1)") } as Void
            #expect(throws: Abort.self) {
                try connection.transaction { connection in
                    try connection.execute("INSERT INTO t VALUES (2)")
                    throw Abort()
                }
            }
            try connection.beginTransaction()
            try connection.execute("INSERT INTO t VALUES (3)")
            try connection.rollback()
            #expect(try connection.query("SELECT id FROM t ORDER BY id").map { $0[0] } == ["1"])
        }
    }

    @Test func affectedRowsAndInsertID() async throws {
        try await MariaDBTestDatabase.with(prefix: "rows") { database in
            let connection = try database.connect()
            try connection.execute("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
            #expect(try connection.execute("INSERT INTO t (v) VALUES (1), (1), (2)") == 3)
            #expect(connection.lastInsertID == 1)  // the first id of a multi-row insert
            #expect(try connection.execute("UPDATE t SET v = 1") == 1)  // changed, not matched
            #expect(try connection.execute("SELECT * FROM t") == 3)  // a result set is drained
            #expect(try connection.execute("DELETE FROM t") == 3)
        }
    }

    @Test func errorsCarryTheServerNumber() async throws {
        try await MariaDBTestDatabase.with(prefix: "errors") { database in
            let connection = try database.connect()
            try connection.execute("CREATE TABLE t (id INT PRIMARY KEY)")
            try connection.execute("INSERT INTO t VALUES (1)")

            let duplicate = try #require(throws: MariaDBError.self) { try connection.execute("INSERT INTO t VALUES (1)") }
            #expect(duplicate.code == .duplicateEntry && duplicate.isDuplicateKey)
            #expect(duplicate.sqlState == "23000")
            #expect(!duplicate.isConnectionLost && !duplicate.isTransient)

            let syntax = try #require(throws: MariaDBError.self) { try connection.execute("SELEKT 1") }
            #expect(syntax.code.rawValue == 1064 && !syntax.code.isClientError)
            #expect(syntax.description.hasPrefix("MariaDB error 1064 (42000): "))

            // The connection is still usable after statement errors.
            try connection.ping()
            #expect(try connection.query("SELECT 1").first?[0] == "1")
        }
    }

    @Test func aKilledConnectionReportsItIsLost() async throws {
        try await MariaDBTestDatabase.with(prefix: "lost") { database in
            let victim = try database.connect()
            let id = try #require(try victim.query("SELECT CONNECTION_ID()").first?[0])
            try database.connectToServer().execute("KILL CONNECTION \(id)")
            let error = try #require(throws: MariaDBError.self) { try victim.query("SELECT 1") }
            #expect(error.isConnectionLost, "\(error)")
            #expect(error.code == .serverGone || error.code == .serverLost || error.code == .connectionKilled)
        }
    }

    @Test func unreachableServerIsAConnectionError() throws {
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        var configuration = MariaDBConfiguration(endpoint: .tcp(host: "127.0.0.1", port: 1), username: "root")
        configuration.connectTimeout = .seconds(2)
        let error = try #require(throws: MariaDBError.self) {
            try MariaDBConnection(configuration: configuration, logger: MariaDBTestDatabase.logger)
        }
        #expect(error.isConnectionLost && error.code.isClientError, "\(error)")
    }

    @Test func unknownDatabaseAndBadPassword() async throws {
        try await MariaDBTestDatabase.with(prefix: "auth", create: false) { database in
            let missing = try #require(throws: MariaDBError.self) { try database.connect() }
            #expect(missing.code == .unknownDatabase)

            var wrongPassword = database.serverConfiguration
            wrongPassword.username = "no_such_user_\(UInt32.random(in: 0...UInt32.max))"
            wrongPassword.password = "wrong"
            let denied = try #require(throws: MariaDBError.self) {
                try MariaDBConnection(configuration: wrongPassword, logger: MariaDBTestDatabase.logger)
            }
            #expect(denied.code == .accessDenied && !denied.isConnectionLost, "\(denied)")
        }
    }

    @Test func selectDatabase() async throws {
        try await MariaDBTestDatabase.with(prefix: "use") { database in
            let connection = try database.connectToServer()
            #expect(try connection.query("SELECT DATABASE()").first?[0] == nil)
            try connection.selectDatabase(database.name)
            #expect(try connection.query("SELECT DATABASE()").first?[0] == database.name)
            #expect(throws: MariaDBError.self) { try connection.selectDatabase(database.name + "_missing") }
        }
    }

    // MARK: LOAD DATA LOCAL INFILE

    static func localDataConnection(_ database: MariaDBTestDatabase) throws -> MariaDBConnection {
        var configuration = database.configuration
        configuration.localData = true
        return try MariaDBConnection(configuration: configuration, logger: MariaDBTestDatabase.logger)
    }

    static let loadInto = Array(#"LOAD DATA LOCAL INFILE 'rows' IGNORE INTO TABLE t CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\t' ESCAPED BY '\\' (id, a, b)"#.utf8)

    @Test func loadLocalDataSendsRowsFromMemory() async throws {
        try await MariaDBTestDatabase.with(prefix: "loaddata") { database in
            let connection = try Self.localDataConnection(database)
            try connection.execute("CREATE TABLE t (id INT PRIMARY KEY, a TEXT NULL, b TEXT NULL) DEFAULT CHARSET=utf8mb4")
            // a\tb, \N (NULL), a text \\N, NULL as a word, an empty text, 4-byte UTF-8
            let file = "1\ttab\\there\t\\N\n2\t\\\\N\tNULL\n3\t\t👋🏽𠮷\n"
            #expect(try connection.loadLocalData(Self.loadInto, file: "rows", contents: Array(file.utf8)) == 3)
            let rows = try connection.query("SELECT id, a, b FROM t ORDER BY id").map(\.values)
            #expect(rows == [["1", "tab\there", nil], ["2", "\\N", "NULL"], ["3", "", "👋🏽𠮷"]])
            // IGNORE: rows there already stay as they are and are not counted.
            #expect(try connection.loadLocalData(Self.loadInto, file: "rows", contents: Array("1\tnew\tnew\n4\tx\ty\n".utf8)) == 1)
            #expect(try connection.query("SELECT a FROM t WHERE id = 1").first?[0] == "tab\there")
        }
    }

    /// The server names the file; a connection serves only what it offers for the
    /// statement under way, so a server asking for a path (or any other name) gets nothing.
    @Test func theServerGetsOnlyTheOfferedRowsNeverAFile() async throws {
        try await MariaDBTestDatabase.with(prefix: "infile") { database in
            let secret = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString).tsv")
            try "9\tsecret\tsecret\n".write(to: secret, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: secret) }
            let statement = "LOAD DATA LOCAL INFILE '\(secret.path)' INTO TABLE t (id, a, b)"

            let connection = try Self.localDataConnection(database)
            try connection.execute("CREATE TABLE t (id INT PRIMARY KEY, a TEXT NULL, b TEXT NULL)")
            let asked = try #require(throws: MariaDBError.self) { try connection.execute(statement) }
            #expect(asked.message.contains("did not offer"), "\(asked)")
            // While rows are offered under another name, too.
            let other = try #require(throws: MariaDBError.self) {
                try connection.loadLocalData(Array(statement.utf8), file: "rows", contents: Array("1\ta\tb\n".utf8))
            }
            #expect(other.message.contains("did not offer"), "\(other)")
            #expect(try connection.query("SELECT COUNT(*) FROM t").first?[0] == "0")
            // The connection is still usable.
            #expect(try connection.loadLocalData(Self.loadInto, file: "rows", contents: Array("1\ta\tb\n".utf8)) == 1)

            // Without localData the client does not even offer LOCAL INFILE: the server refuses.
            let plain = try database.connect()
            #expect(throws: MariaDBError.self) { try plain.execute(statement) }
            #expect(throws: MariaDBError.self) {
                try plain.loadLocalData(Self.loadInto, file: "rows", contents: Array("2\ta\tb\n".utf8))
            }
            #expect(try plain.query("SELECT id FROM t").map { $0[0] } == ["1"])
        }
    }
}
