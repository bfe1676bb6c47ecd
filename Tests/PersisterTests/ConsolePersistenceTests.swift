import Foundation
import MariaDB
import Model
@testable import Persister
import RedisClient
import Testing
import TestSupport

/// The operators' console in MariaDB (docs/operations.md, *Persister*): `admin` and
/// `admin_audit` events from the private stream become `chat_admin` and `admin_audit`
/// rows (idempotent upserts; from another stream they are dead letters), and `persister
/// hydrate` gives back the accounts, the console's indexes and the newest audit rows.
@Suite("console rows: persisted and hydrated", .serialized, .offCooperativePool)
struct ConsolePersistenceTests {
    static let now = "2026-12-07 08:00:00"

    static func addPrivate(_ fixture: DrainFixture, entity: String, id: Int, version: Int, row: String, stream: String = StreamName.privateEntities) async throws {
        if stream != StreamName.privateEntities { fixture.redisServer.streamsAreWrittenByHand() }
        try await fixture.redis.send(RedisCommand("XADD", [
            fixture.shard(stream, id), "*", "v", "1", "entity", entity, "op", "upsert", "id", String(id), "version", String(version), "row", row,
        ])).throwingOnError()
    }

    static func adminRow(id: Int, name: String, password: String, status: Int) -> String {
        #"{"id":\#(id),"name":"\#(name)","password":"\#(password)","status":\#(status),"create_time":"\#(now)","update_time":"\#(now)"}"#
    }

    /// An audit row as `lua/lib/audit.lua` writes it.
    static func auditRow(id: Int, action: String, target: String, targetID: Int?, detail: String) -> String {
        let detailJSON = JSONSerializer.string(.string(detail))
        return #"{"id":\#(id),"admin":"root","action":"\#(action)","target_type":"\#(target)","target_id":\#(targetID.map(String.init) ?? "null"),"detail":\#(detailJSON),"address":"10.0.0.7","create_time":"\#(now)"}"#
    }

    @Test("admin and admin_audit events of the private stream become rows, a replayed or older one changes nothing; from the public stream they are dead letters")
    func persisted() async throws {
        try await DrainFixture.with(prefix: "console") { fixture in
            let longest = String(repeating: "复", count: StoredLimits.Console.adminReply.maximum)
            let replyDetail = #"{"from":0,"status":2,"reply":"\#(longest)"}"#
            try await Self.addPrivate(fixture, entity: "admin", id: 1, version: 1, row: Self.adminRow(id: 1, name: "root", password: "$2b$12$first", status: 1))
            try await Self.addPrivate(fixture, entity: "admin", id: 1, version: 3, row: Self.adminRow(id: 1, name: "root", password: "$2b$12$third", status: 0))
            // Older than the row: not applied.
            try await Self.addPrivate(fixture, entity: "admin", id: 1, version: 2, row: Self.adminRow(id: 1, name: "root", password: "$2b$12$second", status: 1))
            try await Self.addPrivate(fixture, entity: "admin_audit", id: 1, version: 1, row: Self.auditRow(id: 1, action: "admin.create", target: "admin", targetID: 1, detail: #"{"name":"root","status":1}"#))
            try await Self.addPrivate(fixture, entity: "admin_audit", id: 2, version: 1, row: Self.auditRow(id: 2, action: "complaint.reply", target: "complaint", targetID: 7, detail: replyDetail))
            try await Self.addPrivate(fixture, entity: "admin_audit", id: 3, version: 1, row: Self.auditRow(id: 3, action: "deadletter.drop", target: "deadletter", targetID: nil, detail: "{}"))
            // Replayed (the same event again): one row still.
            try await Self.addPrivate(fixture, entity: "admin_audit", id: 3, version: 1, row: Self.auditRow(id: 3, action: "deadletter.drop", target: "deadletter", targetID: nil, detail: "{}"))
            // A complaint answered with the longest reply the console accepts.
            try await fixture.addEntity("complaint", id: 7, version: 2, row: #"{"id":7,"user_id":1,"target_id":2,"target_type":"single","reason":"r","status":2,"admin_reply":"\#(longest)","create_time":"\#(Self.now)","update_time":"\#(Self.now)","is_deleted":0}"#)
            // Not on the private stream: refused, dead-lettered (an admin row never comes from elsewhere).
            try await Self.addPrivate(fixture, entity: "admin", id: 9, version: 1, row: Self.adminRow(id: 9, name: "intruder", password: "x", status: 1), stream: StreamName.entities)

            let persister = try fixture.persister(["PERSISTER_MAX_ATTEMPTS": "1"])
            try await eventually(within: 30) {
                let letters = try await fixture.redis.send("XLEN", StreamName.deadLetters).integer
                guard letters == 1 else { return false }
                return try await fixture.drained()
            }
            let connection = try fixture.database.connect()
            #expect(try connection.query("SELECT id, name, password, status, create_time, update_time, version FROM chat_admin").map(\.values)
                == [["1", "root", "$2b$12$third", "0", Self.now, Self.now, "3"]])
            let audit = try connection.query("SELECT id, admin, action, target_type, target_id, detail, address, create_time, version FROM admin_audit ORDER BY id")
            #expect(audit.map(\.values) == [
                ["1", "root", "admin.create", "admin", "1", #"{"name":"root","status":1}"#, "10.0.0.7", Self.now, "1"],
                ["2", "root", "complaint.reply", "complaint", "7", replyDetail, "10.0.0.7", Self.now, "1"],
                ["3", "root", "deadletter.drop", "deadletter", nil, "{}", "10.0.0.7", Self.now, "1"],
            ])
            #expect(try connection.query("SELECT admin_reply FROM chat_complaint WHERE id = 7").first?[0] == longest)
            let dead = try await fixture.redis.send("XRANGE", StreamName.deadLetters, "-", "+").array?.first?.array?.last?.fieldValues ?? [:]
            #expect(dead["stream"] == fixture.shard(StreamName.entities, 9) && dead["field.entity"] == "admin", "\(dead)")
            #expect(dead["error"]?.contains("admin events come on chat:stream:private only") == true, "\(dead)")
            #expect(try fixture.count("SELECT COUNT(*) FROM chat_admin WHERE name = 'intruder'") == 0)
            _ = persister
        }
    }

    @Test("hydrate: admin accounts, chat:users, the nickname index, chat:groups, complaints with their indexes and the newest audit rows come back as the scripts write them")
    func hydrated() async throws {
        try await DrainFixture.with(prefix: "consolehydrate") { fixture in
            let connection = try fixture.database.connect()
            try connection.execute("""
                INSERT INTO user (id, uuid, username, password, nickname, avatar, status, role, create_time, update_time, version) VALUES
                (5, 'u-5', 'alice', 'h', '爱丽丝', '', 1, 'user', '\(Self.now)', '\(Self.now)', 2),
                (6, 'u-6', 'bob', 'h', '', '', 0, 'user', '\(Self.now)', '\(Self.now)', 1)
                """)
            try connection.execute("""
                INSERT INTO `group` (id, uuid, user_id, name, avatar, invite_confirm, status, create_time, update_time, version)
                VALUES (3, 'g-3', 5, '群', '', 0, 0, '\(Self.now)', '\(Self.now)', 2)
                """)
            try connection.execute("""
                INSERT INTO chat_complaint (id, user_id, target_id, target_type, reason, status, admin_reply, create_time, update_time, is_deleted, version) VALUES
                (7, 5, 6, 'single', '骚扰', 2, '已处理', '\(Self.now)', '\(Self.now)', 0, 2),
                (8, 5, 3, 'group', '广告', 0, NULL, '\(Self.now)', '\(Self.now)', 1, 3)
                """)
            try connection.execute("""
                INSERT INTO chat_admin (id, name, password, status, create_time, update_time, version) VALUES
                (1, 'root', '$2b$12$root', 1, '\(Self.now)', '\(Self.now)', 4), (2, 'ops', '$2b$12$ops', 0, '\(Self.now)', '\(Self.now)', 1)
                """)
            let total = RedisKeys.adminAuditKept + 5
            var values: [String] = []
            for id in 1...total {
                values.append("(\(id), 'root', 'user.disable', 'user', \(id % 2 == 0 ? "5" : "NULL"), '{\"kicks\":1}', '10.0.0.7', '\(Self.now)', 1)")
            }
            try connection.execute("INSERT INTO admin_audit (id, admin, action, target_type, target_id, detail, address, create_time, version) VALUES " + values.joined(separator: ","))
            // What the scripts would have left: a stale status index entry is moved.
            // The reporter's (5) partition's indexes; the audit list in its slot.
            let partition = testKeys.layout.partition(ofUser: 5)
            try await fixture.redis.send("ZADD", testKeys.complaints(status: 0, partition: partition), "7", "7").throwingOnError()
            try await fixture.redis.send("RPUSH", testKeys.adminAudit, "stale").throwingOnError()

            let hydrate = try Executables.run("persister", arguments: ["hydrate"], environment: [
                "REDIS_URL": fixture.redisServer.url, "MARIADB_URL": fixture.database.url,
            ])
            #expect(hydrate.status == 0, "\(hydrate.output)")
            #expect(hydrate.output.contains("complaint 2") && hydrate.output.contains("admin 2"), "\(hydrate.output)")
            let redis = fixture.redis
            func zset(_ key: String) async throws -> [String] {
                try await redis.send("ZRANGE", key, "0", "-1", "WITHSCORES").array?.compactMap(\.string) ?? []
            }
            #expect(try await redis.send("HGETALL", testKeys.admin("root")).fieldValues == [
                "id": "1", "name": "root", "password": "$2b$12$root", "status": "1", "create_time": Self.now, "update_time": Self.now, "_v": "4",
            ])
            #expect(try await redis.send("HGET", testKeys.admin("ops"), "status").string == "0")
            #expect(try await zset(testKeys.admins) == ["root", "1", "ops", "2"])
            var users: [String] = []
            for index in Set([5, 6].map(testKeys.layout.partition(ofUser:))).sorted() { users += try await zset(testKeys.users(partition: index)) }
            #expect(users == ["5", "5", "6", "6"])
            #expect(try await zset(testKeys.userNicknames(ofUser: 5)) == [RedisKeys.nicknameEntry("爱丽丝", 5), "0"])
            #expect(try await zset(testKeys.groups(ofGroup: 3)) == ["3", "3"])
            #expect(try await zset(testKeys.complaints(partition: partition)) == ["7", "7", "8", "8"])
            #expect(try await zset(testKeys.complaints(status: 0, partition: partition)) == ["8", "8"])
            #expect(try await zset(testKeys.complaints(status: 2, partition: partition)) == ["7", "7"])
            #expect(try await zset(testKeys.complaintsOfUser(5)) == ["7", "7"], "a deleted complaint is not the reporter's any more")
            #expect(try await redis.send("HGETALL", testKeys.complaint(7, reporter: 5)).fieldValues == [
                "id": "7", "user_id": "5", "target_id": "6", "target_type": "single", "reason": "骚扰", "status": "2", "admin_reply": "已处理",
                "create_time": Self.now, "update_time": Self.now, "is_deleted": "0", "_v": "2",
            ])
            #expect(try await redis.send("HEXISTS", testKeys.complaint(8, reporter: 5), "admin_reply").integer == 0, "NULL columns absent")
            #expect(try await redis.send("GET", testKeys.adminAuditIDs).string == String(total))
            #expect(try await redis.send("GET", testKeys.adminIDs).string == "2")

            #expect(try await redis.send("LLEN", testKeys.adminAudit).integer == Int64(RedisKeys.adminAuditKept))
            #expect(try await redis.send("LINDEX", testKeys.adminAudit, "0").string
                == #"{"id":\#(total),"admin":"root","action":"user.disable","target_type":"user","target_id":null,"detail":"{\"kicks\":1}","address":"10.0.0.7","create_time":"\#(Self.now)"}"#)
            #expect(try await redis.send("LINDEX", testKeys.adminAudit, "1").string
                == #"{"id":\#(total - 1),"admin":"root","action":"user.disable","target_type":"user","target_id":5,"detail":"{\"kicks\":1}","address":"10.0.0.7","create_time":"\#(Self.now)"}"#)
            #expect(try await redis.send("LINDEX", testKeys.adminAudit, "-1").string?.hasPrefix(#"{"id":6,"#) == true)
        }
    }
}
