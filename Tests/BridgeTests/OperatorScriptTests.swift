import ChatScripts
import Foundation
import LuaScripts
import Model
import RedisClient
import TestSupport
import Testing

/// The operators' console scripts (docs/console.md) through their contracts, each on a
/// Redis of the test's own: exact replies, what Redis holds after, the entity events and
/// audit rows they append, the kicks of a revocation on a node's stream, and refusals
/// that write nothing. Each test names its layout: the plain one (one run per change, the
/// audit inside it), or 4 partitions (`OperatorStepTests`: the audit a step of its own).
@Suite("Operator scripts", .offCooperativePool)
struct OperatorScriptTests {
    static let now = "2026-12-07 08:00:00"
    static let audit = OperatorAudit(admin: "root", address: "10.0.0.7", now: now)
    static let cap = 100_000

    /// One Redis of the test's own, its scripts, and the readings the tests compare.
    struct Fixture {
        let server: RedisServerProcess
        let redis: RedisClient
        let scripts: RedisScripts

        init() throws {
            server = try RedisServerProcess()
            redis = RedisClient(configuration: try RedisConfiguration.forTests(url: server.url))
            scripts = RedisScripts(client: redis, scripts: LuaScripts.all.map { RedisScript(name: $0.name, source: $0.source) })
        }

        func shutdown() async { await redis.shutdown() }

        /// Everything a refusal must leave as it was: every key and its content.
        func snapshot() async throws -> [String: String] {
            var state: [String: String] = [:]
            for key in try await redis.send("KEYS", "*").array?.compactMap(\.string) ?? [] {
                let type = try await redis.send("TYPE", key).string ?? ""
                let dump: RedisReply = switch type {
                case "hash": try await redis.send("HGETALL", key)
                case "zset": try await redis.send("ZRANGE", key, "0", "-1", "WITHSCORES")
                case "list": try await redis.send("LRANGE", key, "0", "-1")
                case "stream": try await redis.send("XRANGE", key, "-", "+")
                default: try await redis.send("GET", key)
                }
                state[key] = "\(type) \(dump)"
            }
            return state
        }

        /// The entries of a stream: entry id and fields.
        func entries(_ stream: String) async throws -> [(id: String, fields: [String: String])] {
            (try await redis.send("XRANGE", stream, "-", "+").array ?? []).compactMap { entry in
                guard let id = entry.array?.first?.string, let fields = entry.array?.last?.fieldValues else { return nil }
                return (id, fields)
            }
        }

        /// The audit list's rows, newest first, parsed.
        func auditRows() async throws -> [[String: Any]] {
            (try await redis.send("LRANGE", RedisKeys.adminAudit, "0", "-1").array ?? []).compactMap { reply in
                reply.string.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            }
        }

        /// A user through `user_register` (as a registration, or from the console with `audit`).
        @discardableResult
        func register(
            _ username: String, nickname: String = "", audit: OperatorAudit? = nil
        ) async throws -> (id: Int, reply: RegisterUser.Reply) {
            let id = Int(try #require(try await redis.send("INCR", RedisKeys.idCounter("user")).integer))
            let row = UserRow(
                id: id, uuid: UUID().uuidString.lowercased(), username: username, password: "$2b$10$hash\(id)", nickname: nickname,
                avatar: "", role: .user, createTime: OperatorScriptTests.now
            )
            // The whole user_info row, as the bridge registers it (docs/streams.md).
            let info: JSONValue = [
                "id": .integer(Int64(id)), "user_id": .integer(Int64(id)), "gender": "unknown", "birthday": .null, "bio": "",
                "location": "", "website": "", "order": 50, "create_time": .string(OperatorScriptTests.now),
                "update_time": .string(OperatorScriptTests.now),
            ]
            let reply = try await scripts.run(RegisterUser(
                keys: .plain, userID: id, infoID: id, username: username, uuid: row.uuid, deviceID: nil,
                userRow: JSONSerializer.string(.object(row.json(includingPassword: true))), infoRow: JSONSerializer.string(info),
                streamCap: OperatorScriptTests.cap, audit: audit
            ))
            return (id, reply)
        }
    }

    static func json(_ text: String?) -> [String: Any] {
        text.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } ?? [:]
    }

    /// An audit row's columns but `detail`, and its detail parsed.
    static func expectAudit(
        _ row: [String: Any]?, id: Int, admin: String = "root", action: String, target: String, targetID: Int?,
        address: String = "10.0.0.7", detail: [String: Any], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let row else {
            Issue.record("no audit row \(action)", sourceLocation: sourceLocation)
            return
        }
        #expect(row.keys.sorted() == ["action", "address", "admin", "create_time", "detail", "id", "target_id", "target_type"], sourceLocation: sourceLocation)
        #expect(row["id"] as? Int == id, "\(row)", sourceLocation: sourceLocation)
        #expect(row["admin"] as? String == admin && row["action"] as? String == action, "\(row)", sourceLocation: sourceLocation)
        #expect(row["target_type"] as? String == target, "\(row)", sourceLocation: sourceLocation)
        if let targetID {
            #expect(row["target_id"] as? Int == targetID, "\(row)", sourceLocation: sourceLocation)
        } else {
            #expect(row["target_id"] is NSNull, "\(row)", sourceLocation: sourceLocation)
        }
        #expect(row["address"] as? String == address && row["create_time"] as? String == now, "\(row)", sourceLocation: sourceLocation)
        // Compared as JSON with sorted keys (cjson orders an object's keys at random).
        func sorted(_ object: Any) -> String {
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "?"
        }
        let parsed = json(row["detail"] as? String)
        #expect(sorted(parsed) == sorted(detail), sourceLocation: sourceLocation)
    }

    // MARK: Accounts

    @Test("admin_account: create, reset, disable, enable; the admin row on the private stream only; bad names and unknown accounts refused with nothing written")
    func adminAccounts() async throws {
        let fixture = try Fixture()
        defer { Task { await fixture.shutdown() } }
        let cli = OperatorAudit(admin: "cli", address: "", now: Self.now)
        func run(_ name: String, _ hash: String?, _ enabled: Bool?) async throws -> ChangeAdminAccount.Reply {
            try await fixture.scripts.run(ChangeAdminAccount(keys: .plain, name: name, passwordHash: hash, enabled: enabled, audit: cli, streamCap: Self.cap))
        }

        #expect(try await run("root", "$2b$12$first", nil) == .changed(.created, id: 1))
        #expect(try await fixture.redis.send("HGETALL", RedisKeys.admin("root")).fieldValues == [
            "id": "1", "name": "root", "password": "$2b$12$first", "status": "1", "create_time": Self.now, "update_time": Self.now,
            "_v": "1",
        ])
        #expect(try await fixture.redis.send("ZSCORE", RedisKeys.admins, "root").string == "1")
        #expect(try await run("ops", "$2b$12$ops", false) == .changed(.created, id: 2))
        #expect(try await fixture.redis.send("HGET", RedisKeys.admin("ops"), "status").string == "0")
        #expect(try await run("root", "$2b$12$second", nil) == .changed(.reset, id: 1))
        #expect(try await run("root", nil, false) == .changed(.disabled, id: 1))
        #expect(try await run("root", nil, true) == .changed(.enabled, id: 1))
        #expect(try await fixture.redis.send("HGETALL", RedisKeys.admin("root")).fieldValues == [
            "id": "1", "name": "root", "password": "$2b$12$second", "status": "1", "create_time": Self.now, "update_time": Self.now,
            "_v": "4",
        ])

        // The whole row (the hash included) on the private stream, never on the public one.
        let events = try await fixture.entries(StreamName.privateEntities).filter { $0.fields["entity"] == "admin" }
        #expect(events.map { $0.fields["version"] ?? "" } == ["1", "1", "2", "3", "4"])
        #expect(events.last?.fields["row"] == #"{"id":1,"name":"root","password":"$2b$12$second","status":1,"create_time":"2026-12-07 08:00:00","update_time":"2026-12-07 08:00:00"}"#)
        #expect(events.allSatisfy { $0.fields["op"] == "upsert" && $0.fields["v"] == "1" })
        #expect(try await fixture.redis.send("EXISTS", StreamName.entities).integer == 0)

        let audit = try await fixture.auditRows()
        #expect(audit.map { $0["action"] as? String ?? "" } == ["admin.enable", "admin.disable", "admin.reset", "admin.create", "admin.create"])
        Self.expectAudit(audit.first, id: 5, admin: "cli", action: "admin.enable", target: "admin", targetID: 1, address: "", detail: ["name": "root", "status": 1])
        Self.expectAudit(audit.last, id: 1, admin: "cli", action: "admin.create", target: "admin", targetID: 1, address: "", detail: ["name": "root", "status": 1])
        let auditEvents = try await fixture.entries(StreamName.privateEntities).filter { $0.fields["entity"] == "admin_audit" }
        #expect(auditEvents.map { $0.fields["id"] ?? "" } == ["1", "2", "3", "4", "5"])
        #expect(auditEvents.last?.fields["row"] == (try await fixture.redis.send("LINDEX", RedisKeys.adminAudit, "0").string))
        #expect(try await fixture.redis.send("GET", RedisKeys.adminAuditIDs).string == "5")

        let before = try await fixture.snapshot()
        #expect(try await run("nobody", nil, false) == .refused(.missing))
        #expect(try await run("audit", "$2b$12$x", nil) == .refused(.badName))
        #expect(try await run("session:x", "$2b$12$x", nil) == .refused(.badName))
        #expect(try await run(String(repeating: "a", count: 65), "$2b$12$x", nil) == .refused(.badName))
        #expect(try await fixture.snapshot() == before, "a refusal writes nothing")
    }

    @Test("user_register: every user in chat:users and the nickname index; from the console with its audit row user.create; a taken username writes nothing")
    func registration() async throws {
        let fixture = try Fixture()
        defer { Task { await fixture.shutdown() } }
        let plain = try await fixture.register("plain01", nickname: "")
        #expect(plain.reply == .registered)
        #expect(try await fixture.redis.send("EXISTS", RedisKeys.adminAudit, RedisKeys.adminAuditIDs).integer == 0, "a registration is not audited")
        let console = try await fixture.register("console01", nickname: "小明", audit: Self.audit)
        #expect(console.reply == .registered)
        #expect(try await fixture.redis.send("ZRANGE", RedisKeys.users, "0", "-1", "WITHSCORES").array?.compactMap(\.string)
            == ["\(plain.id)", "\(plain.id)", "\(console.id)", "\(console.id)"])
        #expect(try await fixture.redis.send("ZRANGE", RedisKeys.userNicknames, "0", "-1").array?.compactMap(\.string)
            == [RedisKeys.nicknameEntry("小明", console.id)])
        let rows = try await fixture.auditRows()
        #expect(rows.count == 1)
        Self.expectAudit(rows.first, id: 1, action: "user.create", target: "user", targetID: console.id, detail: ["username": "console01", "nickname": "小明"])
        #expect(try await fixture.entries(StreamName.privateEntities).map { $0.fields["entity"] ?? "" } == ["user", "user", "admin_audit"])

        let before = try await fixture.snapshot()
        let taken = try await fixture.redis.send("GET", RedisKeys.idCounter("user")).string
        let again = try await fixture.register("console01", nickname: "另一个", audit: Self.audit)
        #expect(again.reply == .refused(.usernameTaken))
        var after = try await fixture.snapshot()
        // Only the id counter moved (it is taken before the script).
        #expect(after.removeValue(forKey: RedisKeys.idCounter("user")) != nil && taken != nil)
        var expected = before
        expected.removeValue(forKey: RedisKeys.idCounter("user"))
        #expect(after == expected)
    }

    // MARK: Users

    /// A live process `node` (heartbeat now) holding `connections` of `user`: its target
    /// (the first) and its sockets.
    static func online(_ fixture: Fixture, user: Int, node: String, connections: [Int]) async throws {
        let now = try await fixture.redis.send("TIME").array.flatMap { $0.first?.string }.flatMap { Int64($0) } ?? 0
        try await fixture.redis.send("ZADD", RedisKeys.nodes, String(now * 1000), node).throwingOnError()
        try await fixture.redis.send("SET", RedisKeys.userToken(user), "token-\(user)").throwingOnError()
        try await fixture.redis.send("SET", RedisKeys.online(user), "\(node):\(connections[0])").throwingOnError()
        try await fixture.redis.send("SET", RedisKeys.onlineToken(user), "tid").throwingOnError()
        for connection in connections {
            try await fixture.redis.send("ZADD", RedisKeys.sockets(user), String(now * 1000 + 60_000), "\(node):\(connection)").throwingOnError()
        }
    }

    /// The kicks on a node's stream, as `{uid}:{conn}`.
    static func kicks(_ fixture: Fixture, node: String) async throws -> [String] {
        try await fixture.entries(RedisKeys.nodeStream(node)).compactMap { entry in
            entry.fields["e"].flatMap { $0.hasPrefix("kick ") ? String($0.dropFirst(5)) : nil }
        }.sorted()
    }

    func change(_ fixture: Fixture, _ user: Int, _ operation: ChangeUserByOperator.Operation) async throws -> ChangeUserByOperator.Reply {
        try await fixture.scripts.run(ChangeUserByOperator(
            keys: .plain, user: user, operation, audit: Self.audit, streamCap: Self.cap, deadAfterMilliseconds: 60_000
        ))
    }

    @Test("admin_user_change edit: username, nickname and avatar with their indexes and events; a new password revokes and kicks in the same step; taken, stale and missing write nothing")
    func edit() async throws {
        let fixture = try Fixture()
        defer { Task { await fixture.shutdown() } }
        let (alice, _) = try await fixture.register("alice01", nickname: "爱丽丝")
        let (bob, _) = try await fixture.register("bob01")

        let before = try await fixture.snapshot()
        #expect(try await change(fixture, alice, .edit(currentUsername: "alice01", .init(username: "bob01"))) == .refused(.usernameTaken))
        #expect(try await change(fixture, alice, .edit(currentUsername: "alice00", .init(nickname: "x"))) == .refused(.stale))
        #expect(try await change(fixture, 999, .edit(currentUsername: "alice01", .init(nickname: "x"))) == .refused(.missing))
        #expect(try await change(fixture, 999, .disable) == .refused(.missing))
        #expect(try await fixture.snapshot() == before, "a refusal writes nothing")

        let reply = try await change(fixture, alice, .edit(currentUsername: "alice01", .init(username: "alice02", nickname: "艾丽斯", avatar: "http://a/1.png")))
        #expect(reply == .changed(version: 2, kicks: 0))
        let row = try await fixture.redis.send("HGETALL", RedisKeys.user(alice)).fieldValues
        #expect(row["username"] == "alice02" && row["nickname"] == "艾丽斯" && row["avatar"] == "http://a/1.png" && row["_v"] == "2")
        #expect(row["update_time"] == Self.now && row["password"] == "$2b$10$hash\(alice)")
        #expect(try await fixture.redis.send("GET", RedisKeys.userByName("alice02")).string == String(alice))
        #expect(try await fixture.redis.send("EXISTS", RedisKeys.userByName("alice01")).integer == 0)
        #expect(try await fixture.redis.send("ZRANGE", RedisKeys.userNames, "0", "-1").array?.compactMap(\.string) == ["alice02", "bob01"])
        #expect(try await fixture.redis.send("ZRANGE", RedisKeys.userNicknames, "0", "-1").array?.compactMap(\.string) == [RedisKeys.nicknameEntry("艾丽斯", alice)])
        // The events as user_update's: the public columns (no hash) and the whole row.
        let publicEvent = try #require(try await fixture.entries(StreamName.entities).last)
        #expect(publicEvent.fields["entity"] == "user" && publicEvent.fields["version"] == "2" && publicEvent.fields["v"] == "2")
        let publicRow = Self.json(publicEvent.fields["row"])
        #expect(publicRow["username"] as? String == "alice02" && publicRow["password"] == nil && publicRow.keys.contains("avatar"))
        let privateEvent = try #require(try await fixture.entries(StreamName.privateEntities).last { $0.fields["entity"] == "user" })
        #expect(privateEvent.fields["version"] == "2" && Self.json(privateEvent.fields["row"])["password"] as? String == "$2b$10$hash\(alice)")
        var audit = try await fixture.auditRows()
        Self.expectAudit(audit.first, id: 1, action: "user.edit", target: "user", targetID: alice, detail: [
            "username": ["alice01", "alice02"], "nickname": ["爱丽丝", "艾丽斯"], "avatar": "http://a/1.png",
        ])

        // A new password: the token and every live socket end in this step.
        try await Self.online(fixture, user: alice, node: "n1", connections: [5, 6])
        #expect(try await change(fixture, alice, .edit(currentUsername: "alice02", .init(passwordHash: "$2b$10$new"))) == .changed(version: 3, kicks: 2))
        #expect(try await Self.kicks(fixture, node: "n1") == ["\(alice):5", "\(alice):6"])
        #expect(try await fixture.redis.send(
            "EXISTS", RedisKeys.userToken(alice), RedisKeys.online(alice), RedisKeys.onlineToken(alice), RedisKeys.sockets(alice)
        ).integer == 0)
        #expect(try await fixture.redis.send("HGET", RedisKeys.user(alice), "password").string == "$2b$10$new")
        audit = try await fixture.auditRows()
        Self.expectAudit(audit.first, id: 2, action: "user.password", target: "user", targetID: alice, detail: ["password": true, "kicks": 2])
        for row in audit {
            #expect(!(row["detail"] as? String ?? "").contains("$2b$"), "no hash in an audit row")
        }
        _ = bob
    }

    @Test("admin_user_change disable, enable, delete: status, revocation with kicks on the live node only, the deleted account kept listed with its username reserved")
    func disableEnableDelete() async throws {
        let fixture = try Fixture()
        defer { Task { await fixture.shutdown() } }
        let (carol, _) = try await fixture.register("carol01", nickname: "卡罗")
        try await Self.online(fixture, user: carol, node: "live", connections: [1])
        // A socket on a process dead for long: nobody reads its stream, no kick sent there.
        try await fixture.redis.send("ZADD", RedisKeys.nodes, "1", "dead").throwingOnError()
        try await fixture.redis.send("ZADD", RedisKeys.sockets(carol), "99999999999999", "dead:2").throwingOnError()

        #expect(try await change(fixture, carol, .disable) == .changed(version: 2, kicks: 1))
        #expect(try await Self.kicks(fixture, node: "live") == ["\(carol):1"])
        #expect(try await Self.kicks(fixture, node: "dead") == [])
        #expect(try await fixture.redis.send("HGET", RedisKeys.user(carol), "status").string == "0")
        #expect(try await fixture.redis.send("EXISTS", RedisKeys.userToken(carol), RedisKeys.sockets(carol)).integer == 0)
        #expect(Self.json(try await fixture.entries(StreamName.entities).last?.fields["row"])["status"] as? Int == 0)

        #expect(try await change(fixture, carol, .enable) == .changed(version: 3, kicks: 0))
        #expect(try await fixture.redis.send("HGET", RedisKeys.user(carol), "status").string == "1")

        #expect(try await change(fixture, carol, .delete) == .changed(version: 4, kicks: 0))
        let row = try await fixture.redis.send("HGETALL", RedisKeys.user(carol)).fieldValues
        #expect(row["status"] == "0" && row["is_deleted"] == "1" && row["_v"] == "4")
        let privateRow = Self.json(try await fixture.entries(StreamName.privateEntities).last { $0.fields["entity"] == "user" }?.fields["row"])
        #expect(privateRow["is_deleted"] as? Int == 1 && privateRow["status"] as? Int == 0)
        #expect(try await fixture.redis.send("ZSCORE", RedisKeys.users, String(carol)).string == String(carol), "still listed")
        #expect(try await fixture.redis.send("GET", RedisKeys.userByName("carol01")).string == String(carol), "the username stays reserved")

        let before = try await fixture.snapshot()
        #expect(try await change(fixture, carol, .enable) == .refused(.missing))
        #expect(try await change(fixture, carol, .delete) == .refused(.missing))
        #expect(try await change(fixture, carol, .edit(currentUsername: "carol01", .init(nickname: "x"))) == .refused(.missing))
        #expect(try await fixture.snapshot() == before)

        let actions = try await fixture.auditRows().map { $0["action"] as? String ?? "" }
        #expect(actions == ["user.delete", "user.enable", "user.disable"])
        Self.expectAudit(try await fixture.auditRows().last, id: 1, action: "user.disable", target: "user", targetID: carol, detail: ["kicks": 1])
    }

    @Test("user_update keeps the nickname index when the nickname changes")
    func nicknameIndexFollowsUserUpdate() async throws {
        let fixture = try Fixture()
        defer { Task { await fixture.shutdown() } }
        let (dave, _) = try await fixture.register("dave01", nickname: "大卫")
        let reply = try await fixture.scripts.run(UpdateUser(
            keys: .plain, userID: dave, username: "dave01", streamCap: Self.cap, requireActive: true, verifiedHash: nil, token: nil,
            newUsername: nil, columns: [("nickname", "戴夫"), ("update_time", Self.now)]
        ))
        guard case .updated = reply else { Issue.record("\(reply)"); return }
        #expect(try await fixture.redis.send("ZRANGE", RedisKeys.userNicknames, "0", "-1").array?.compactMap(\.string) == [RedisKeys.nicknameEntry("戴夫", dave)])
        _ = try await fixture.scripts.run(UpdateUser(
            keys: .plain, userID: dave, username: "dave01", streamCap: Self.cap, requireActive: true, verifiedHash: nil, token: nil,
            newUsername: nil, columns: [("nickname", "")]
        ))
        #expect(try await fixture.redis.send("ZCARD", RedisKeys.userNicknames).integer == 0)
        // Prefix search, as the console does it.
        _ = try await fixture.register("erin01", nickname: "小红")
        _ = try await fixture.register("fay01", nickname: "小明")
        let found = try await fixture.redis.send("ZRANGEBYLEX", RedisKeys.userNicknames, "[小", "[小\u{FFFF}").array?.compactMap(\.string)
        #expect(found?.count == 2)
    }

    // MARK: Complaints and groups

    @Test("complaint_change create indexes the complaint; complaint_reply sets status and reply, moves it between the status indexes, with its event and audit row; missing writes nothing")
    func complaints() async throws {
        let fixture = try Fixture()
        defer { Task { await fixture.shutdown() } }
        let (reporter, _) = try await fixture.register("gina01")
        let (target, _) = try await fixture.register("hank01")
        let created = try await fixture.scripts.run(ChangeComplaint(
            // complaint_reply writes the audit's global keys with the complaint's: the plain layout only.
            7, by: reporter, .create(target: .user(target), reason: "骚扰", optional: "{}", limit: 10), keys: .plain, streamCap: Self.cap,
            now: Self.now
        ))
        #expect(created == .version(1))
        #expect(try await fixture.redis.send("ZRANGE", RedisKeys.complaints, "0", "-1").array?.compactMap(\.string) == ["7"])
        #expect(try await fixture.redis.send("ZRANGE", RedisKeys.complaints(status: 0), "0", "-1").array?.compactMap(\.string) == ["7"])

        let reply = try await fixture.scripts.run(ReplyToComplaint(keys: .plain, 7, partition: 0, status: 2, reply: "已处理，谢谢", audit: Self.audit, streamCap: Self.cap))
        #expect(reply == .version(2))
        let row = try await fixture.redis.send("HGETALL", RedisKeys.complaint(7)).fieldValues
        #expect(row["status"] == "2" && row["admin_reply"] == "已处理，谢谢" && row["_v"] == "2" && row["update_time"] == Self.now)
        #expect(try await fixture.redis.send("ZCARD", RedisKeys.complaints(status: 0)).integer == 0)
        #expect(try await fixture.redis.send("ZRANGE", RedisKeys.complaints(status: 2), "0", "-1").array?.compactMap(\.string) == ["7"])
        let event = try #require(try await fixture.entries(StreamName.entities).last)
        #expect(event.fields["entity"] == "complaint" && event.fields["version"] == "2")
        #expect(event.fields["row"] == #"{"id":7,"user_id":\#(reporter),"target_id":\#(target),"target_type":"single","target_name":null,"reason":"骚扰","content":null,"images":null,"complaint_chatinfo":null,"status":2,"admin_reply":"已处理，谢谢","create_time":"2026-12-07 08:00:00","update_time":"2026-12-07 08:00:00","is_deleted":0}"#)
        Self.expectAudit(try await fixture.auditRows().first, id: 1, action: "complaint.reply", target: "complaint", targetID: 7, detail: [
            "from": 0, "status": 2, "reply": "已处理，谢谢",
        ])

        #expect(try await fixture.scripts.run(ReplyToComplaint(keys: .plain, 7, partition: 0, status: 3, reply: "", audit: Self.audit, streamCap: Self.cap)) == .version(3))
        #expect(try await fixture.redis.send("ZCARD", RedisKeys.complaints(status: 2)).integer == 0)
        #expect(try await fixture.redis.send("ZCARD", RedisKeys.complaints(status: 3)).integer == 1)

        let before = try await fixture.snapshot()
        #expect(try await fixture.scripts.run(ReplyToComplaint(keys: .plain, 8, partition: 0, status: 1, reply: "x", audit: Self.audit, streamCap: Self.cap)) == .refused(.missing))
        #expect(try await fixture.snapshot() == before)
    }

    @Test("group_update create lists the group in chat:groups; group_status disables and enables it with its event and audit row; missing writes nothing")
    func groups() async throws {
        let fixture = try Fixture()
        defer { Task { await fixture.shutdown() } }
        let (owner, _) = try await fixture.register("ivan01")
        let (member, _) = try await fixture.register("judy01")
        let created = try await fixture.scripts.run(ChangeGroup(
            // group_status writes the audit's global keys with the group's: the plain layout only.
            group: 3, by: owner, .create(uuid: "g-3", name: "群", avatar: "", firstRowID: 1, members: [owner, member]),
            keys: .plain, streamCap: Self.cap, now: Self.now
        ))
        #expect(created == .created)
        #expect(try await fixture.redis.send("ZRANGE", RedisKeys.groups, "0", "-1", "WITHSCORES").array?.compactMap(\.string) == ["3", "3"])

        #expect(try await fixture.scripts.run(ChangeGroupStatus(group: 3, enabled: false, audit: Self.audit, streamCap: Self.cap)) == .version(2))
        #expect(try await fixture.redis.send("HGET", RedisKeys.group(3), "status").string == "0")
        let event = try #require(try await fixture.entries(StreamName.entities).last)
        #expect(event.fields["entity"] == "group" && event.fields["version"] == "2")
        #expect(event.fields["row"] == #"{"id":3,"uuid":"g-3","user_id":\#(owner),"name":"群","avatar":"","remark":null,"invite_confirm":0,"status":0,"order":50,"create_time":"2026-12-07 08:00:00","update_time":"2026-12-07 08:00:00"}"#)
        Self.expectAudit(try await fixture.auditRows().first, id: 1, action: "group.disable", target: "group", targetID: 3, detail: [:])
        #expect(try await fixture.scripts.run(ChangeGroupStatus(group: 3, enabled: true, audit: Self.audit, streamCap: Self.cap)) == .version(3))
        #expect(try await fixture.redis.send("HGET", RedisKeys.group(3), "status").string == "1")
        #expect(try await fixture.auditRows().first?["action"] as? String == "group.enable")

        let before = try await fixture.snapshot()
        #expect(try await fixture.scripts.run(ChangeGroupStatus(group: 4, enabled: false, audit: Self.audit, streamCap: Self.cap)) == .refused(.missing))
        #expect(try await fixture.snapshot() == before)
    }

    // MARK: Dead letters

    @Test("deadletter_change: replay appends the original fields to the original stream and removes the dead letter; drop removes it; a wrong stream is stale; both audited without the fields")
    func deadLetters() async throws {
        let fixture = try Fixture()
        defer { Task { await fixture.shutdown() } }
        func deadLetter(_ id: String) async throws -> String {
            try #require(try await fixture.redis.send(
                "XADD", StreamName.deadLetters, "*", "stream", StreamName.privateEntities, "entry", id, "attempts", "5",
                "error", "Data too long for column 'nickname'", "consumer", "p1", "field.entity", "user", "field.id", "4",
                "field.op", "upsert", "field.row", #"{"id":4,"password":"secret-hash"}"#, "field.v", "1", "field.version", "9"
            ).string)
        }
        let first = try await deadLetter("1-1"), second = try await deadLetter("1-2")
        func run(_ entry: String, _ operation: ChangeDeadLetter.Operation) async throws -> ChangeDeadLetter.Reply {
            try await fixture.scripts.run(ChangeDeadLetter(keys: .plain, entry: entry, operation, audit: Self.audit, streamCap: Self.cap))
        }

        let before = try await fixture.snapshot()
        #expect(try await run(first, .replay(stream: StreamName.entities)) == .refused(.stale))
        #expect(try await run("9-9", .drop) == .refused(.missing))
        #expect(try await fixture.snapshot() == before)

        guard case .replayed(let newID) = try await run(first, .replay(stream: StreamName.privateEntities)) else {
            Issue.record("not replayed")
            return
        }
        let replayed = try #require(try await fixture.entries(StreamName.privateEntities).first { $0.id == newID })
        #expect(replayed.fields == [
            "entity": "user", "id": "4", "op": "upsert", "row": #"{"id":4,"password":"secret-hash"}"#, "v": "1", "version": "9",
        ])
        #expect(try await run(second, .drop) == .dropped)
        #expect(try await fixture.redis.send("XLEN", StreamName.deadLetters).integer == 0)
        #expect(try await run(first, .drop) == .refused(.missing))

        let rows = try await fixture.auditRows()
        #expect(rows.count == 2)
        Self.expectAudit(rows.first, id: 2, action: "deadletter.drop", target: "deadletter", targetID: nil, detail: [
            "deadletter": second, "stream": StreamName.privateEntities, "entry": "1-2", "error": "Data too long for column 'nickname'",
        ])
        Self.expectAudit(rows.last, id: 1, action: "deadletter.replay", target: "deadletter", targetID: nil, detail: [
            "deadletter": first, "stream": StreamName.privateEntities, "entry": "1-1", "error": "Data too long for column 'nickname'",
            "replayed": newID,
        ])
        for row in rows { #expect(!(row["detail"] as? String ?? "").contains("secret-hash")) }
    }

    @Test("the audit list keeps the newest 10,000 rows")
    func auditListCapped() async throws {
        let fixture = try Fixture()
        defer { Task { await fixture.shutdown() } }
        try await fixture.redis.send("SET", RedisKeys.adminAuditIDs, "20000").throwingOnError()
        let filler = (0..<RedisKeys.adminAuditKept).map { _ in "{}" as any RedisArgument }
        try await fixture.redis.send(RedisCommand("RPUSH", [RedisKeys.adminAudit as any RedisArgument] + filler)).throwingOnError()
        _ = try await fixture.scripts.run(ChangeAdminAccount(keys: .plain, name: "root", passwordHash: "h", enabled: nil, audit: Self.audit, streamCap: Self.cap))
        #expect(try await fixture.redis.send("LLEN", RedisKeys.adminAudit).integer == Int64(RedisKeys.adminAuditKept))
        #expect(try await fixture.auditRows().first?["id"] as? Int == 20001)
    }

    // MARK: Heartbeat

    @Test("node_heartbeat records a node's sockets and users and adds its sends to the minute's counter (2 h TTL); leaving or pruning removes its figures")
    func heartbeatStatistics() async throws {
        let fixture = try Fixture()
        defer { Task { await fixture.shutdown() } }
        func beat(_ node: String, sockets: Int, users: Int, messages: Int, prune: Int64 = 3_600_000) async throws {
            _ = try await fixture.scripts.run(RecordHeartbeat(
                keys: testKeys, node: node, pruneAfterMilliseconds: prune, reapAfterMilliseconds: 6000, reapBatch: 100, sockets: sockets, users: users,
                messages: messages
            ))
        }
        try await beat("a", sockets: 3, users: 2, messages: 5)
        try await beat("b", sockets: 1, users: 1, messages: 0)
        let stats = try await fixture.redis.send("HGETALL", testKeys.nodeStats).fieldValues
        #expect(Set(stats.keys) == ["a", "b"])
        let a = Self.json(stats["a"])
        #expect(a["sockets"] as? Int == 3 && a["users"] as? Int == 2 && (a["at"] as? Int ?? 0) > 1_700_000_000_000)
        let minutes = try await fixture.redis.send("KEYS", RedisKeys.messagesPerMinutePrefix + "*").array?.compactMap(\.string) ?? []
        #expect(minutes.count == 1)
        let minute = try #require(minutes.first)
        #expect(try await fixture.redis.send("GET", minute).string == "5")
        let ttl = try await fixture.redis.send("TTL", minute).integer ?? 0
        #expect(ttl > 7000 && ttl <= 7200)
        let beatAt = Int64(a["at"] as? Int ?? 0)
        #expect(minute == testKeys.messagesInMinute(beatAt / 60000))
        try await beat("a", sockets: 2, users: 2, messages: 4)
        let total = try await fixture.redis.send("KEYS", RedisKeys.messagesPerMinutePrefix + "*").array?.compactMap(\.string) ?? []
        var sum = 0
        for key in total { sum += Int(try await fixture.redis.send("GET", key).string ?? "") ?? 0 }
        #expect(sum == 9)

        #expect(try await fixture.scripts.run(LeaveNodes(keys: testKeys, node: "b")))
        #expect(try await fixture.redis.send("HEXISTS", testKeys.nodeStats, "b").integer == 0)
        // 'a' silent for longer than the prune time: pruned with its figures at c's beat.
        try await Task.sleep(for: .milliseconds(20))
        try await beat("c", sockets: 0, users: 0, messages: 0, prune: 10)
        #expect(try await fixture.redis.send("HKEYS", testKeys.nodeStats).array?.compactMap(\.string) == ["c"])
    }
}
