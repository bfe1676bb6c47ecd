import Logging
import MariaDB
@testable import Persister
import Testing
import TestSupport

/// `persister migrate` against the real server of MARIADB_URL, each test in a database
/// of its own.
@Suite("migrate", .offCooperativePool)
struct MigrationTests {
    static let entityTables = [
        "user", "user_info", "goodfriend", "goodfriendapply", "group", "group_user", "chat_complaint",
        "message", "askanswer", "user_block",
    ]

    /// Every column, in order.
    static let expectedColumns: [String: [String]] = [
        "user": [
            "id", "uuid", "username", "password", "nickname", "avatar", "devicefingeruuid", "devicefingeruuid_key",
            "uniplatform", "devicemodel", "deviceos", "devicebrand", "userset", "invite_confirm", "mobile", "email",
            "status", "last_login", "last_login_ip", "register_time", "register_ip", "is_deleted", "wechat_openid",
            "qq_openid", "weibo_uid", "role", "is_email_verified", "is_mobile_verified", "order", "create_time",
            "update_time", "version",
        ],
        "user_info": [
            "id", "user_id", "gender", "birthday", "bio", "location", "website", "order", "create_time", "update_time",
            "version",
        ],
        "goodfriend": [
            "id", "user_id", "friend_id", "nickname", "friendlookme", "melookfriend", "ismystarfriend", "isblack",
            "status", "order", "create_time", "update_time", "version",
        ],
        "goodfriendapply": [
            "id", "user_id", "friend_id", "nickname", "friendlookme", "melookfriend", "ismystarfriend", "isblack",
            "status", "order", "create_time", "update_time", "version",
        ],
        "group": [
            "id", "uuid", "user_id", "name", "avatar", "remark", "invite_confirm", "status", "order", "create_time",
            "update_time", "version",
        ],
        "group_user": [
            "id", "group_id", "user_id", "nickname", "avatar", "status", "order", "create_time", "update_time", "version",
        ],
        "chat_complaint": [
            "id", "user_id", "target_id", "target_type", "target_name", "reason", "content", "images",
            "complaint_chatinfo", "status", "admin_reply", "create_time", "update_time", "is_deleted", "version",
        ],
        "message": [
            "id", "chat_type", "type", "from_id", "to_id", "from_name", "from_avatar", "to_name", "to_avatar", "data",
            "options", "create_time", "isremove", "version",
        ],
        "askanswer": ["id", "user_id", "ask", "answer", "type", "create_time", "update_time", "version"],
        "user_block": ["id", "user_id", "blocked_id", "create_time", "version"],
        "chat_admin": ["id", "name", "password", "status", "create_time", "update_time", "version"],
        "admin_audit": ["id", "admin", "action", "target_type", "target_id", "detail", "address", "create_time", "version"],
        "schema_migrations": ["version", "name", "applied_at"],
        "entity_tombstone": ["entity", "id", "version", "deleted_at"],
    ]

    /// Unique keys (PRIMARY included): name → columns in key order.
    static let expectedUniqueKeys: [String: [String: [String]]] = [
        "user": [
            "PRIMARY": ["id"], "uuid": ["uuid"], "username": ["username"], "devicefingeruuid": ["devicefingeruuid_key"],
            "mobile": ["mobile"], "email": ["email"], "wechat_openid": ["wechat_openid"], "qq_openid": ["qq_openid"],
            "weibo_uid": ["weibo_uid"],
        ],
        "user_info": ["PRIMARY": ["id"]],
        "goodfriend": ["PRIMARY": ["id"], "user_id_friend_id": ["user_id", "friend_id"]],
        "goodfriendapply": ["PRIMARY": ["id"]],
        "group": ["PRIMARY": ["id"], "uuid": ["uuid"]],
        "group_user": ["PRIMARY": ["id"], "group_id_user_id": ["group_id", "user_id"]],
        "chat_complaint": ["PRIMARY": ["id"]],
        "message": ["PRIMARY": ["id"]],
        "askanswer": ["PRIMARY": ["id"]],
        "user_block": ["PRIMARY": ["id"]],
        "chat_admin": ["PRIMARY": ["id"], "name": ["name"]],
        "admin_audit": ["PRIMARY": ["id"]],
        "schema_migrations": ["PRIMARY": ["version"]],
        "entity_tombstone": ["PRIMARY": ["entity", "id"]],
    ]

    /// (table, column) → (COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT as information_schema shows it).
    static let expectedDefinitions: [(String, String, String, String, String?)] = [
        ("user", "id", "int(10) unsigned", "NO", nil),
        ("user", "uuid", "varchar(36)", "NO", nil),
        ("user", "username", "varchar(50)", "NO", nil),
        ("user", "nickname", "varchar(50)", "NO", "''"),
        ("user", "avatar", "varchar(1000)", "YES", "NULL"),
        ("user", "devicefingeruuid", "varchar(200)", "YES", "''"),
        ("user", "uniplatform", "varchar(100)", "NO", "''"),
        ("user", "userset", "text", "YES", "NULL"),
        ("user", "invite_confirm", "tinyint(1)", "NO", "0"),
        ("user", "mobile", "varchar(20)", "YES", "NULL"),
        ("user", "email", "varchar(100)", "YES", "NULL"),
        ("user", "status", "tinyint(4)", "NO", "1"),
        ("user", "last_login", "datetime(3)", "YES", "NULL"),
        ("user", "register_time", "datetime(3)", "YES", "NULL"),
        ("user", "last_login_ip", "varchar(45)", "YES", "NULL"),
        ("user", "wechat_openid", "varchar(128)", "YES", "NULL"),
        ("user", "role", "varchar(20)", "NO", "'user'"),
        ("user", "order", "int(11)", "NO", "50"),
        ("user", "create_time", "datetime", "NO", "current_timestamp()"),
        ("user", "update_time", "datetime", "NO", "current_timestamp()"),
        ("user_info", "gender", "enum('male','female','unknown')", "NO", "'unknown'"),
        ("user_info", "bio", "varchar(200)", "YES", "NULL"),
        ("user_info", "website", "varchar(255)", "YES", "NULL"),
        ("goodfriend", "nickname", "varchar(50)", "NO", "''"),
        ("goodfriend", "friendlookme", "tinyint(1)", "NO", "1"),
        ("goodfriend", "melookfriend", "tinyint(1)", "NO", "1"),
        ("goodfriend", "ismystarfriend", "tinyint(1)", "NO", "0"),
        ("goodfriend", "isblack", "tinyint(1)", "NO", "0"),
        ("goodfriendapply", "status", "enum('pending','refuse','agree','ignore')", "NO", "'pending'"),
        // Widened to the limits table (issue 17): nine members' avatars and their commas.
        ("group", "avatar", "varchar(9008)", "YES", "NULL"),
        ("message", "type", "varchar(50)", "NO", nil),
        ("message", "to_avatar", "varchar(9008)", "NO", "''"),
        ("group", "remark", "text", "YES", "NULL"),
        ("group_user", "avatar", "varchar(1000)", "NO", "''"),
        ("chat_complaint", "target_type", "enum('group','single')", "NO", nil),
        ("chat_complaint", "reason", "varchar(500)", "NO", nil),
        ("chat_complaint", "status", "tinyint(4)", "NO", "0"),
        ("message", "id", "char(36)", "NO", nil),
        ("message", "chat_type", "enum('single','group')", "NO", nil),
        ("message", "from_id", "varchar(100)", "NO", nil),
        ("message", "to_id", "int(10) unsigned", "NO", nil),
        ("message", "data", "mediumtext", "NO", nil),
        ("message", "options", "text", "YES", "NULL"),
        ("message", "create_time", "bigint(20) unsigned", "NO", nil),
        ("message", "isremove", "tinyint(1)", "NO", "0"),
        ("askanswer", "answer", "text", "NO", nil),
        ("chat_admin", "name", "varchar(64)", "NO", nil),
        ("chat_admin", "password", "varchar(255)", "NO", nil),
        ("chat_admin", "status", "tinyint(4)", "NO", "1"),
        ("admin_audit", "id", "bigint(20) unsigned", "NO", nil),
        ("admin_audit", "target_id", "bigint(20)", "YES", "NULL"),
        ("admin_audit", "detail", "text", "YES", "NULL"),
        ("admin_audit", "address", "varchar(45)", "NO", "''"),
        ("admin_audit", "create_time", "datetime", "NO", "current_timestamp()"),
    ]

    @Test func createsTheDatabaseAndEveryTable() async throws {
        try await MariaDBTestDatabase.with(prefix: "migrate", create: false) { database in
            let connection = try database.connectToServer()
            let report = try Self.migrator().migrate(database: database.name, on: connection)
            #expect(report.applied.map(\.version) == [1, 2, 3, 4])
            #expect(report.schemaVersion == SchemaMigrations.all.count)
            #expect(report.summary.contains("1 create_initial_tables"))

            let schema = try connection.query("""
                SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA
                WHERE SCHEMA_NAME = \(try connection.quote(database.name))
                """)
            #expect(schema.first?[0] == "utf8mb4")
            #expect(schema.first?[1] == "utf8mb4_unicode_ci")

            let tables = try connection.query("""
                SELECT TABLE_NAME, ENGINE, TABLE_COLLATION FROM information_schema.TABLES
                WHERE TABLE_SCHEMA = \(try connection.quote(database.name)) ORDER BY TABLE_NAME
                """)
            #expect(tables.compactMap { $0[0] } == Self.expectedColumns.keys.sorted())
            for table in tables {
                #expect(table["ENGINE"] == "InnoDB", "\(table)")
                #expect(table["TABLE_COLLATION"] == "utf8mb4_unicode_ci", "\(table)")
            }
        }
    }

    @Test func everyTableHasTheExpectedColumns() async throws {
        try await Self.withMigratedDatabase { connection, name in
            for (table, expected) in Self.expectedColumns {
                let columns = try connection.query("""
                    SELECT COLUMN_NAME FROM information_schema.COLUMNS
                    WHERE TABLE_SCHEMA = \(try connection.quote(name)) AND TABLE_NAME = \(try connection.quote(table))
                    ORDER BY ORDINAL_POSITION
                    """).compactMap { $0[0] }
                #expect(columns == expected, "columns of \(table)")
            }
        }
    }

    @Test func columnTypesNullabilityAndDefaults() async throws {
        try await Self.withMigratedDatabase { connection, name in
            for (table, column, type, nullable, defaultValue) in Self.expectedDefinitions {
                let row = try #require(try connection.query("""
                    SELECT COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, CHARACTER_SET_NAME FROM information_schema.COLUMNS
                    WHERE TABLE_SCHEMA = \(try connection.quote(name)) AND TABLE_NAME = \(try connection.quote(table))
                      AND COLUMN_NAME = \(try connection.quote(column))
                    """).first, "\(table).\(column) is missing")
                #expect(row["COLUMN_TYPE"] == type, "type of \(table).\(column)")
                #expect(row["IS_NULLABLE"] == nullable, "nullability of \(table).\(column)")
                #expect(row["COLUMN_DEFAULT"] == defaultValue, "default of \(table).\(column)")
            }
            let extra = try connection.query("""
                SELECT TABLE_NAME, COLUMN_NAME, EXTRA FROM information_schema.COLUMNS
                WHERE TABLE_SCHEMA = \(try connection.quote(name)) AND COLUMN_NAME IN ('id', 'update_time', 'devicefingeruuid_key')
                """)
            for row in extra {
                let table = row[0] ?? "", column = row[1] ?? "", value = row[2] ?? ""
                switch (table, column) {
                case ("message", "id"): #expect(value == "", "message ids come from the bridge")
                case (_, "id") where !["schema_migrations", "entity_tombstone"].contains(table): #expect(value == "auto_increment", "\(table).id")
                case (_, "update_time"): #expect(value == "on update current_timestamp()", "\(table).update_time")
                case ("user", "devicefingeruuid_key"): #expect(value == "STORED GENERATED")
                default: break
                }
            }
            let messageID = try connection.query("""
                SELECT CHARACTER_SET_NAME FROM information_schema.COLUMNS
                WHERE TABLE_SCHEMA = \(try connection.quote(name)) AND TABLE_NAME = 'message' AND COLUMN_NAME = 'id'
                """)
            #expect(messageID.first?[0] == "ascii")
        }
    }

    @Test func everyEntityTableHasAVersionColumn() async throws {
        try await Self.withMigratedDatabase { connection, name in
            for table in Self.entityTables {
                let row = try #require(try connection.query("""
                    SELECT COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT FROM information_schema.COLUMNS
                    WHERE TABLE_SCHEMA = \(try connection.quote(name)) AND TABLE_NAME = \(try connection.quote(table))
                      AND COLUMN_NAME = 'version'
                    """).first, "\(table).version is missing")
                #expect(row[0] == "bigint(20) unsigned", "\(table).version")
                #expect(row[1] == "NO", "\(table).version")
                #expect(row[2] == "0", "\(table).version")
            }
        }
    }

    @Test func uniqueKeys() async throws {
        try await Self.withMigratedDatabase { connection, name in
            let rows = try connection.query("""
                SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
                WHERE TABLE_SCHEMA = \(try connection.quote(name)) AND NON_UNIQUE = 0
                ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
                """)
            var actual: [String: [String: [String]]] = [:]
            for row in rows {
                actual[row[0] ?? "", default: [:]][row[1] ?? "", default: []].append(row[2] ?? "")
            }
            #expect(actual == Self.expectedUniqueKeys)

            // The indexes that serve history queries exist.
            let message = try connection.query("""
                SELECT INDEX_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) FROM information_schema.STATISTICS
                WHERE TABLE_SCHEMA = \(try connection.quote(name)) AND TABLE_NAME = 'message' AND NON_UNIQUE = 1
                GROUP BY INDEX_NAME ORDER BY INDEX_NAME
                """).map { "\($0[0] ?? ""):\($0[1] ?? "")" }
            #expect(message == ["conversation_time:chat_type,from_id,to_id,create_time", "group_time:chat_type,to_id,create_time"])
        }
    }

    @Test func uniqueKeysBehaveAsTheFixesSay() async throws {
        try await Self.withMigratedDatabase { connection, _ in
            func insertUser(_ id: Int, device: String?) throws {
                let device = try device.map { try connection.quote($0) } ?? "NULL"
                try connection.execute("""
                    INSERT INTO `user` (id, uuid, username, devicefingeruuid) VALUES (\(id), 'uuid-\(id)', 'user\(id)', \(device))
                    """)
            }
            // Ordinary accounts have no device: any number of them, '' or NULL.
            try insertUser(1, device: "")
            try insertUser(2, device: "")
            try insertUser(3, device: nil)
            try insertUser(4, device: "device-a")
            let duplicateDevice = try #require(throws: MariaDBError.self) { try insertUser(5, device: "device-a") }
            #expect(duplicateDevice.isDuplicateKey)
            #expect(try connection.query("SELECT devicefingeruuid FROM `user` WHERE id = 1").first?[0] == "")

            try connection.execute("INSERT INTO goodfriend (user_id, friend_id) VALUES (1, 2), (2, 1)")
            let duplicateFriend = try #require(throws: MariaDBError.self) {
                try connection.execute("INSERT INTO goodfriend (user_id, friend_id) VALUES (1, 2)")
            }
            #expect(duplicateFriend.isDuplicateKey)

            try connection.execute("INSERT INTO group_user (group_id, user_id) VALUES (7, 1), (7, 2), (8, 1)")
            let duplicateMember = try #require(throws: MariaDBError.self) {
                try connection.execute("INSERT INTO group_user (group_id, user_id) VALUES (7, 2)")
            }
            #expect(duplicateMember.isDuplicateKey)

            // Defaults of a minimal row are those of the old schema.
            let user = try #require(try connection.query("SELECT * FROM `user` WHERE id = 1").first)
            #expect(user["role"] == "user" && user["status"] == "1" && user["order"] == "50" && user["version"] == "0")
            #expect(user["mobile"] == nil && user["create_time"] != nil)
        }
    }

    @Test func migratingTwiceAppliesNothingTheSecondTime() async throws {
        try await MariaDBTestDatabase.with(prefix: "twice", create: false) { database in
            let connection = try database.connectToServer()
            let first = try Self.migrator().migrate(database: database.name, on: connection)
            #expect(first.applied.count == SchemaMigrations.all.count)
            try connection.execute("INSERT INTO askanswer (user_id, ask, answer) VALUES (1, '在吗？', '在的 🙂')")

            let second = try Self.migrator().migrate(database: database.name, on: try database.connectToServer())
            #expect(second.applied.isEmpty)
            #expect(second.schemaVersion == first.schemaVersion)
            #expect(second.summary.contains("up to date") && second.summary.contains("no migration to apply"))
            #expect(try connection.query("SELECT version, name FROM schema_migrations").map { "\($0[0] ?? ""):\($0[1] ?? "")" }
                == ["1:create_initial_tables", "2:add_tombstones_and_login_milliseconds", "3:add_user_block", "4:add_chat_admin_and_admin_audit"])
            #expect(try connection.query("SELECT answer FROM askanswer").first?[0] == "在的 🙂", "data survives")
        }
    }

    @Test("a database migrated before the limits table is widened to it, keeping data, defaults and comments; once")
    func columnsNarrowerThanTheLimitsTableAreWidened() async throws {
        try await MariaDBTestDatabase.with(prefix: "widen", create: false) { database in
            var old = Self.migrator()
            old.widening = ColumnWidening(columnTypes: [:])
            _ = try old.migrate(database: database.name, on: try database.connectToServer())
            let connection = try database.connect()
            func column(_ table: String, _ name: String) throws -> [String?] {
                try connection.query("""
                    SELECT COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLUMN_COMMENT, CHARACTER_SET_NAME FROM information_schema.COLUMNS
                    WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = \(try connection.quote(table)) AND COLUMN_NAME = \(try connection.quote(name))
                    """).first?.values ?? []
            }
            #expect(try column("group", "avatar") == ["varchar(4000)", "YES", "NULL", "群头像", "utf8mb4"])
            try connection.execute("INSERT INTO `group` (uuid, user_id, name, avatar) VALUES ('g', 1, '群', 'a,b')")
            // An operator's wider column stays as it is.
            try connection.execute("ALTER TABLE `user` MODIFY COLUMN `avatar` VARCHAR(2000) NULL DEFAULT NULL COMMENT '头像'")

            let report = try Self.migrator().migrate(database: database.name, on: try database.connectToServer())
            #expect(report.applied.isEmpty)
            #expect(report.widened == ["group.avatar VARCHAR(9008)", "message.to_avatar VARCHAR(9008)", "message.type VARCHAR(50)"])
            #expect(report.summary.contains("widened to the limits table: group.avatar VARCHAR(9008)"))
            #expect(try column("group", "avatar") == ["varchar(9008)", "YES", "NULL", "群头像", "utf8mb4"])
            #expect(try column("message", "to_avatar") == ["varchar(9008)", "NO", "''", "接收者头像", "utf8mb4"])
            #expect(try column("message", "type") == ["varchar(50)", "NO", nil, "消息类型：text image audio video …", "utf8mb4"])
            #expect(try column("user", "avatar").first == "varchar(2000)")
            #expect(try connection.query("SELECT avatar FROM `group` WHERE uuid = 'g'").first?[0] == "a,b")

            let again = try Self.migrator().migrate(database: database.name, on: try database.connectToServer())
            #expect(again.widened.isEmpty)
        }
    }

    @Test func aMigrationInterruptedHalfWayIsCompletedByTheNextRun() async throws {
        try await Self.withMigratedDatabase { connection, name in
            // As if the previous run stopped after some tables: no record, one table missing.
            try connection.execute("DELETE FROM schema_migrations")
            try connection.execute("DROP TABLE askanswer")
            let report = try Self.migrator().migrate(database: name, on: connection)
            #expect(report.applied.map(\.version) == [1, 2, 3, 4])
            #expect(try connection.query("SHOW TABLES LIKE 'askanswer'").count == 1)
        }
    }

    @Test func migrationsFromANewerProgramAreReported() async throws {
        try await Self.withMigratedDatabase { connection, name in
            try connection.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'from_the_future')")
            let report = try Self.migrator().migrate(database: name, on: connection)
            #expect(report.applied.isEmpty)
            #expect(report.unknownVersions == [999])
            #expect(report.summary.contains("999"))
        }
    }

    @Test func concurrentMigrationsApplyEachMigrationOnce() async throws {
        try await MariaDBTestDatabase.with(prefix: "race", create: false) { database in
            // Two sessions, each on its own thread, as two persister replicas would be.
            let sessions = (0..<2).map { _ in
                MariaDBSession(configuration: database.serverConfiguration, logger: MariaDBTestDatabase.logger)
            }
            let migrator = Self.migrator()
            let name = database.name
            let reports = try await withThrowingTaskGroup(of: MigrationReport.self) { group in
                for session in sessions {
                    group.addTask {
                        try await session.withConnection { try migrator.migrate(database: name, on: $0) }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(reports.map(\.applied.count).sorted() == [0, SchemaMigrations.all.count])
            #expect(try database.connect().query("SELECT COUNT(*) FROM schema_migrations").first?[0]
                == String(SchemaMigrations.all.count))
        }
    }

    @Test func theMigrationListIsConsecutiveAndNamed() {
        let versions = SchemaMigrations.all.map(\.version)
        #expect(versions == Array(1...SchemaMigrations.all.count))
        let names = SchemaMigrations.all.map(\.name)
        #expect(Set(names).count == names.count)
        for name in names {
            #expect(!name.isEmpty && name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, "\(name)")
        }
        for migration in SchemaMigrations.all {
            for statement in migration.statements {
                // MODIFY … IF EXISTS sets a definition: repeating it changes nothing.
                #expect(statement.contains("IF NOT EXISTS") || statement.contains("MODIFY COLUMN IF EXISTS"), "migration \(migration.version) must be safe to repeat")
            }
        }
    }

    // MARK: Helpers

    static func migrator() -> Migrator {
        Migrator(logger: MariaDBTestDatabase.logger)
    }

    /// A throwaway database already migrated, and a connection using it.
    static func withMigratedDatabase(_ body: (MariaDBConnection, String) throws -> Void) async throws {
        try await MariaDBTestDatabase.with(prefix: "schema", create: false) { database in
            let connection = try database.connectToServer()
            _ = try migrator().migrate(database: database.name, on: connection)
            try body(connection, database.name)
        }
    }
}
