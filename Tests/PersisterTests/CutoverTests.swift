import Crypto
import Foundation
import MariaDB
import RedisClient
import Testing
import TestSupport

/// The whole cutover from eggjs (docs/migrating-from-eggjs.md) with the real executables:
/// a database shaped as the old server left it, `persister migrate`, the Q&A import,
/// `persister hydrate`, `persister verify`, then a bridge where old users log in with
/// their old passwords and see their friends and groups.
@Suite("cutover from eggjs", .serialized, .offCooperativePool)
struct CutoverTests {
    /// The old server's tables as it created them (utf8mb4, no `version`, the unique
    /// device id with its '' default, no pair keys), without the fixes of migration 1.
    static let oldSchema = [
        """
        CREATE TABLE `user` (
          `id` INT UNSIGNED NOT NULL AUTO_INCREMENT, `uuid` VARCHAR(36) NOT NULL, `username` VARCHAR(50) NOT NULL,
          `password` VARCHAR(255) NOT NULL DEFAULT '', `nickname` VARCHAR(50) NOT NULL DEFAULT '', `avatar` VARCHAR(1000) NULL,
          `devicefingeruuid` VARCHAR(200) NULL DEFAULT '', `uniplatform` VARCHAR(100) NOT NULL DEFAULT '',
          `devicemodel` VARCHAR(100) NOT NULL DEFAULT '', `deviceos` VARCHAR(100) NOT NULL DEFAULT '',
          `devicebrand` VARCHAR(100) NOT NULL DEFAULT '', `userset` TEXT NULL, `invite_confirm` TINYINT NOT NULL DEFAULT 0,
          `mobile` VARCHAR(20) NULL, `email` VARCHAR(100) NULL, `status` TINYINT NOT NULL DEFAULT 1, `last_login` DATETIME NULL,
          `last_login_ip` VARCHAR(45) NULL, `register_time` DATETIME NULL, `register_ip` VARCHAR(45) NULL,
          `is_deleted` TINYINT NOT NULL DEFAULT 0, `wechat_openid` VARCHAR(128) NULL, `qq_openid` VARCHAR(128) NULL,
          `weibo_uid` VARCHAR(128) NULL, `role` VARCHAR(20) NOT NULL DEFAULT 'user', `is_email_verified` TINYINT NOT NULL DEFAULT 0,
          `is_mobile_verified` TINYINT NOT NULL DEFAULT 0, `order` INT NOT NULL DEFAULT 50,
          `create_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
          `update_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
          PRIMARY KEY (`id`), UNIQUE KEY `uuid` (`uuid`), UNIQUE KEY `username` (`username`),
          UNIQUE KEY `devicefingeruuid` (`devicefingeruuid`), UNIQUE KEY `mobile` (`mobile`), UNIQUE KEY `email` (`email`),
          UNIQUE KEY `wechat_openid` (`wechat_openid`), UNIQUE KEY `qq_openid` (`qq_openid`), UNIQUE KEY `weibo_uid` (`weibo_uid`)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='用户表'
        """,
        """
        CREATE TABLE `user_info` (
          `id` INT UNSIGNED NOT NULL AUTO_INCREMENT, `user_id` INT UNSIGNED NOT NULL,
          `gender` ENUM('male','female','unknown') NOT NULL DEFAULT 'unknown', `birthday` DATETIME NULL,
          `bio` VARCHAR(200) NULL, `location` VARCHAR(100) NULL, `website` VARCHAR(255) NULL, `order` INT NOT NULL DEFAULT 50,
          `create_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
          `update_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
          PRIMARY KEY (`id`), KEY `user_id` (`user_id`)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
        """,
        """
        CREATE TABLE `goodfriend` (
          `id` INT UNSIGNED NOT NULL AUTO_INCREMENT, `user_id` INT UNSIGNED NOT NULL, `friend_id` INT UNSIGNED NOT NULL,
          `nickname` VARCHAR(50) NOT NULL DEFAULT '', `friendlookme` TINYINT NOT NULL DEFAULT 1,
          `melookfriend` TINYINT NOT NULL DEFAULT 1, `ismystarfriend` TINYINT NOT NULL DEFAULT 0,
          `isblack` TINYINT NOT NULL DEFAULT 0, `status` TINYINT NOT NULL DEFAULT 1, `order` INT NOT NULL DEFAULT 50,
          `create_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
          `update_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
          PRIMARY KEY (`id`), KEY `user_id` (`user_id`), KEY `friend_id` (`friend_id`)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
        """,
        """
        CREATE TABLE `goodfriendapply` (
          `id` INT UNSIGNED NOT NULL AUTO_INCREMENT, `user_id` INT UNSIGNED NOT NULL, `friend_id` INT UNSIGNED NOT NULL,
          `nickname` VARCHAR(50) NOT NULL DEFAULT '', `status` ENUM('pending','refuse','agree','ignore') NOT NULL DEFAULT 'pending',
          `order` INT NOT NULL DEFAULT 50, `create_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
          `update_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
          PRIMARY KEY (`id`), KEY `user_id` (`user_id`), KEY `friend_id` (`friend_id`)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
        """,
        """
        CREATE TABLE `group` (
          `id` INT UNSIGNED NOT NULL AUTO_INCREMENT, `uuid` VARCHAR(36) NOT NULL, `user_id` INT UNSIGNED NOT NULL,
          `name` VARCHAR(50) NOT NULL, `avatar` VARCHAR(4000) NULL, `remark` TEXT NULL,
          `invite_confirm` TINYINT NOT NULL DEFAULT 0, `status` TINYINT NOT NULL DEFAULT 1, `order` INT NOT NULL DEFAULT 50,
          `create_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
          `update_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
          PRIMARY KEY (`id`), UNIQUE KEY `uuid` (`uuid`), KEY `user_id` (`user_id`)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
        """,
        """
        CREATE TABLE `group_user` (
          `id` INT UNSIGNED NOT NULL AUTO_INCREMENT, `group_id` INT UNSIGNED NOT NULL, `user_id` INT UNSIGNED NOT NULL,
          `nickname` VARCHAR(50) NOT NULL DEFAULT '', `avatar` VARCHAR(1000) NOT NULL DEFAULT '',
          `status` TINYINT NOT NULL DEFAULT 1, `order` INT NOT NULL DEFAULT 50,
          `create_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
          `update_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
          PRIMARY KEY (`id`), KEY `group_id` (`group_id`), KEY `user_id` (`user_id`)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
        """,
        """
        CREATE TABLE `chat_complaint` (
          `id` INT UNSIGNED NOT NULL AUTO_INCREMENT, `user_id` INT UNSIGNED NOT NULL, `target_id` INT UNSIGNED NOT NULL,
          `target_type` ENUM('group','single') NOT NULL, `target_name` VARCHAR(100) NULL, `reason` VARCHAR(500) NOT NULL,
          `content` TEXT NULL, `images` TEXT NULL, `complaint_chatinfo` TEXT NULL, `status` TINYINT NOT NULL DEFAULT 0,
          `admin_reply` TEXT NULL, `create_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
          `update_time` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
          `is_deleted` TINYINT NOT NULL DEFAULT 0, PRIMARY KEY (`id`), KEY `user_id` (`user_id`)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
        """,
    ]

    static func legacy(_ password: String) -> String {
        SHA256.hash(data: Array(password.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The old server's rows: three users and a course admin (`role = 'admin'`), their
    /// friendships both ways, a pending request, a group with members, a complaint.
    static func oldRows() -> [String] {
        let time = "'2021-05-06 07:08:09'"
        func user(_ id: Int, _ name: String, _ nickname: String, _ password: String, role: String) -> String {
            "(\(id), '00000000-0000-4000-8000-0000000000\(id)', '\(name)', '\(legacy(password))', '\(nickname)', 'a\(id).png', NULL, '\(role)', \(time), \(time))"
        }
        return [
            "INSERT INTO `user` (id, uuid, username, password, nickname, avatar, devicefingeruuid, role, create_time, update_time) VALUES "
                + [user(11, "alice", "爱丽丝", "alice-old-1", role: "user"), user(12, "bobby", "鲍勃", "bob-pass", role: "user"),
                   user(13, "teacher", "老师", "admin-pass", role: "admin"), user(14, "davey", "戴夫", "dave-pass", role: "user")]
                .joined(separator: ", "),
            "INSERT INTO user_info (id, user_id, gender, bio, create_time, update_time) VALUES (3, 11, 'female', '你好', \(time), \(time))",
            """
            INSERT INTO goodfriend (id, user_id, friend_id, nickname, ismystarfriend, create_time, update_time) VALUES
            (101, 11, 12, '小鲍', 1, \(time), \(time)), (102, 12, 11, '', 0, \(time), \(time)),
            (103, 11, 13, '', 0, \(time), \(time)), (104, 13, 11, '', 0, \(time), \(time))
            """,
            "INSERT INTO goodfriendapply (id, user_id, friend_id, nickname, status, create_time, update_time) VALUES (8, 14, 11, '戴夫', 'pending', \(time), \(time))",
            "INSERT INTO `group` (id, uuid, user_id, name, avatar, invite_confirm, status, create_time, update_time) VALUES (5, 'group-uuid-5', 11, '课程群', 'g.png', 0, 1, \(time), \(time))",
            """
            INSERT INTO group_user (id, group_id, user_id, nickname, status, create_time, update_time) VALUES
            (51, 5, 11, '', 1, \(time), \(time)), (52, 5, 12, '鲍', 1, \(time), \(time)), (53, 5, 13, '', 1, \(time), \(time))
            """,
            """
            INSERT INTO chat_complaint (id, user_id, target_id, target_type, target_name, reason, status, create_time, update_time)
            VALUES (3, 12, 5, 'group', '课程群', '广告', 1, \(time), \(time))
            """,
        ]
    }

    /// The old server's Q&A folder: two users' files, one pair without an id, one not a
    /// pair, and a file that is not one of them.
    static func writeAskAnswerFiles() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("askAnswer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let files = [
            "chatuser_default_11.json": #"""
                [{"id":21,"ask":"在吗","answer":"在的","type":"default","create_userId":11,"create_time":"2022-03-04 05:06:07","update_time":"2022-03-04 05:06:07"},
                 {"ask":"几点上课","answer":"九点","create_time":1646370367000},
                 {"ask":"","answer":"空的问题"}]
                """#,
            "chatuser_course_13.json": #"{"data":[{"ask":"作业","answer":"周五交"}]}"#,
            "README.txt": "not a Q&A file",
        ]
        for (name, text) in files { try Data(text.utf8).write(to: directory.appendingPathComponent(name)) }
        return directory
    }

    @Test func theWholeCutoverWithTheRealExecutables() async throws {
        let redisServer = try RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration.forTests(url: redisServer.url))
        defer { _ = redisServer }
        let folder = try Self.writeAskAnswerFiles()
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            try await MariaDBTestDatabase.with(prefix: "cutover") { database in
                try await Self.cutover(database: database, redisServer: redisServer, redis: redis, folder: folder)
            }
        } catch {
            await redis.shutdown()
            throw error
        }
        await redis.shutdown()
    }

    static func cutover(database: MariaDBTestDatabase, redisServer: RedisServerProcess, redis: RedisClient, folder: URL) async throws {
        let connection = try database.connect()
        for statement in oldSchema + oldRows() { try connection.execute(statement) }
        let environment = ["REDIS_URL": redisServer.url, "MARIADB_URL": database.url, "LOG_LEVEL": "info"]
        func persister(_ arguments: String...) throws -> (status: Int32, output: String) {
            try Executables.run("persister", arguments: arguments, environment: environment, timeout: 60)
        }

        // 1. migrate: the old tables get `version`, the new tables appear, data stays.
        let migrate = try persister("migrate")
        #expect(migrate.status == 0, "\(migrate.output)")
        func columnType(_ table: String, _ column: String) throws -> String? {
            try connection.query("""
                SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
                AND TABLE_NAME = '\(table)' AND COLUMN_NAME = '\(column)'
                """).first?[0] ?? nil
        }
        for table in ["user", "user_info", "goodfriend", "goodfriendapply", "group", "group_user", "chat_complaint"] {
            #expect(try columnType(table, "version") == "bigint(20) unsigned", "\(table)")
        }
        #expect(try columnType("user", "last_login") == "datetime(3)")
        #expect(try columnType("user", "wechat_openid") == "varchar(128)", "the old columns stay")
        let tables = Set(try connection.query("SHOW TABLES").compactMap { $0[0] })
        #expect(tables.isSuperset(of: ["askanswer", "message", "entity_tombstone", "user_block", "chat_admin", "admin_audit", "schema_migrations"]))
        #expect(try connection.query("SELECT role FROM `user` WHERE id = 13").first?[0] == "admin")

        // 2. the Q&A files, twice: the second run changes nothing.
        let imported = try persister("import-askanswers", folder.path)
        #expect(imported.status == 0, "\(imported.output)")
        #expect(imported.output.contains("Q&A import: 2 files, 4 pairs: 3 inserted, 0 updated, 0 unchanged, 1 skipped; 1 other files ignored"), "\(imported.output)")
        #expect(imported.output.contains("skipped chatuser_default_11.json #3: no ask or no answer"))
        let rows = { try connection.query("SELECT id, user_id, ask, answer, type, create_time, version FROM askanswer ORDER BY id").map { $0.values.map { $0 ?? "NULL" } } }
        let afterImport = try rows()
        #expect(afterImport == [
            ["1", "13", "作业", "周五交", "course", afterImport.first?[5] ?? "", "1"],
            ["21", "11", "在吗", "在的", "default", "2022-03-04 05:06:07", "1"],
            ["22", "11", "几点上课", "九点", "default", "2022-03-04 05:06:07", "1"],
        ])
        let again = try persister("import-askanswers", folder.path)
        #expect(again.output.contains("Q&A import: 2 files, 4 pairs: 0 inserted, 0 updated, 3 unchanged, 1 skipped"), "\(again.output)")
        #expect(try rows() == afterImport)

        // 3. hydrate: refused beside a live bridge, a dry run writes nothing, then the real one.
        let now = try await redis.send("TIME").array?.first?.string.flatMap { Int64($0) } ?? 0
        try await redis.send("ZADD", "chat:nodes", String(now * 1000), "old-bridge").throwingOnError()
        let refused = try persister("hydrate")
        #expect(refused.status == 3, "\(refused.output)")
        #expect(refused.output.contains("persister hydrate: refused: 1 bridge process(es) alive: old-bridge"), "\(refused.output)")
        let dryRun = try persister("hydrate", "--dry-run")
        #expect(dryRun.status == 0, "\(dryRun.output)")
        #expect(dryRun.output.contains("dry run, nothing written: would hydrate Redis from MariaDB: user 4, user_info 1, goodfriend 4, goodfriendapply 1, group 1, group_user 3, block 0, complaint 1, askanswer 3, admin 0, admin_audit 0"), "\(dryRun.output)")
        #expect(try await redis.send("EXISTS", testKeys.user(11), testKeys.friends(11), "chat:id:user").integer == 0)
        try await redis.send("ZREM", "chat:nodes", "old-bridge").throwingOnError()
        let hydrate = try persister("hydrate")
        #expect(hydrate.status == 0, "\(hydrate.output)")
        #expect(hydrate.output.contains("hydrate done"), "progress as log lines off a terminal: \(hydrate.output)")
        #expect(hydrate.output.contains("18/18 rows (100.0%)"), "\(hydrate.output)")
        #expect(hydrate.output.contains("hydrated Redis from MariaDB: user 4, user_info 1, goodfriend 4, goodfriendapply 1, group 1, group_user 3, block 0, complaint 1, askanswer 3, admin 0, admin_audit 0"))
        #expect(try await redis.send("HGET", testKeys.askAnswersOfUser(22), "x").string == nil)
        #expect(try await redis.send("HGET", testKeys.askAnswersOfUser(11), "22").string
            == #"{"id":22,"user_id":11,"ask":"几点上课","answer":"九点","type":"default","create_time":"2022-03-04 05:06:07","update_time":"2022-03-04 05:06:07","_v":1}"#)
        #expect(try await redis.send("GET", testKeys.askAnswerOwner(1, owner: 13)).string == "13")
        #expect(try await redis.send("GET", "chat:id:askanswer").string == "22")

        // 4. verify: all the same; then two changes in Redis are found, and hydrate repairs them.
        let verify = try persister("verify")
        #expect(verify.status == 0, "\(verify.output)")
        #expect(verify.output.contains("goodfriend: MariaDB 4, Redis 4\n"), "\(verify.output)")
        #expect(verify.output.contains("askanswer: MariaDB 3, Redis 3\n"))
        #expect(verify.output.contains("sampled rows compared column by column: user 4, user_info 1, goodfriend 4, goodfriendapply 1, group 1, group_user 3, block 0, complaint 1, askanswer 3, admin 0"))
        #expect(verify.output.contains("verify: Redis matches MariaDB"))
        try await redis.send("HSET", testKeys.user(12), "nickname", "改过").throwingOnError()
        try await redis.send("HDEL", testKeys.friends(11), "13").throwingOnError()
        let differs = try persister("verify")
        #expect(differs.status == 1, "\(differs.output)")
        #expect(differs.output.contains("goodfriend: MariaDB 4, Redis 3  DIFFERENT"), "\(differs.output)")
        #expect(differs.output.contains("goodfriend of user_id 11: 2 in MariaDB, 1 in \(testKeys.friends(11))"))
        #expect(differs.output.contains("goodfriend 103: \(testKeys.friends(11)) has no field 13"))
        #expect(differs.output.contains("user 12: \(testKeys.user(12)) nickname: MariaDB '鲍勃', Redis '改过'"))
        #expect(differs.output.contains("verify: 3 difference(s) between MariaDB and Redis"))
        #expect(try persister("hydrate").status == 0)
        #expect(try persister("verify", "--sample", "0").output.contains("verify: Redis matches MariaDB"))
        #expect(try persister("verify").status == 0)

        // 5. the switch: a bridge; old users log in with their old passwords.
        let bridge = try await BridgeProcess(redisURL: redisServer.url)
        let login = try bridge.post("/api/loginChat", ["username": "alice", "password": "alice-old-1"])
        #expect(login.status == 200, "\(login)")
        let me = try #require(login.body["data"] as? [String: Any])
        #expect(me["id"] as? Int == 11)
        #expect(me["token"] is String)
        #expect(try await redis.send("HGET", testKeys.user(11), "password").string?.hasPrefix("$2") == true, "rehashed at the first login")
        // The password still works against the new hash (a new login: the token above is revoked).
        let relogin = try bridge.post("/api/loginChat", ["username": "alice", "password": "alice-old-1"])
        let token = try #require((relogin.body["data"] as? [String: Any])?["token"] as? String, "\(relogin)")

        func get(_ path: String, _ token: String) throws -> [String: Any] {
            let response = try #require(HTTPProbe.request(port: bridge.port, method: "GET", path: path, headers: [("token", token)]))
            #expect(response.status == 200, "\(path): \(response.body)")
            return (try JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any] ?? [:]
        }
        let friends = try get("/api/chat/goodfriendlist/1", token)
        let friendRows = ((friends["data"] as? [String: Any])?["rows"] as? [String: Any])
        #expect(friendRows?["total"] as? Int == 2, "\(friends)")
        let listed = ((friendRows?["newList"] as? [[String: Any]]) ?? []).flatMap { ($0["list"] as? [[String: Any]]) ?? [] }
        #expect(Set(listed.compactMap { $0["friend_id"] as? Int }) == [12, 13])
        #expect(listed.first { $0["friend_id"] as? Int == 12 }?["beizhu"] as? String == "小鲍")
        let groups = try get("/api/chat/grouplist/1", token)
        let groupRows = (groups["data"] as? [[String: Any]]) ?? []
        #expect(groupRows.map { "\($0["id"] ?? "") \($0["name"] ?? "")" } == ["5 课程群"], "\(groups)")
        let info = try get("/api/chat/groupinfo/5", token)
        let members = ((info["data"] as? [String: Any])?["group_users"] as? [[String: Any]]) ?? []
        #expect(members.compactMap { ($0["user"] as? [String: Any])?["id"] as? Int }.sorted() == [11, 12, 13], "\(info)")
        #expect(members.first { ($0["user"] as? [String: Any])?["id"] as? Int == 13 }.flatMap { ($0["user"] as? [String: Any])?["role"] as? String } == "admin")
        let questions = try bridge.post("/api/chat/askanswer/list", [:], token: token)
        #expect((questions.body["data"] as? [[String: Any]])?.compactMap { $0["ask"] as? String } == ["在吗", "几点上课"], "\(questions)")

        // The course admin (role 'admin') is readable and acts as a user in the chat.
        let teacher = try bridge.post("/api/loginChat", ["username": "teacher", "password": "admin-pass"])
        #expect(teacher.status == 200, "\(teacher)")
        let teacherData = try #require(teacher.body["data"] as? [String: Any])
        #expect(teacherData["id"] as? Int == 13)
        #expect(teacherData["role"] as? String == "admin")
        let teacherToken = try #require(teacherData["token"] as? String)
        let teacherFriends = try get("/api/chat/goodfriendlist/1", teacherToken)
        #expect(((teacherFriends["data"] as? [String: Any])?["rows"] as? [String: Any])?["total"] as? Int == 1, "\(teacherFriends)")
        let sent = try bridge.post("/api/chat/socket/sendmessage", ["sendto_id": 11, "chatType": "single", "type": "text", "data": "上课了"], token: teacherToken)
        #expect(sent.body["msg"] as? String == "ok", "\(sent)")
    }
}
