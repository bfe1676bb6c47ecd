import ChatScripts
import Foundation
import Model
import RedisClient
import TestSupport
import Testing

@testable import ChatAPI

/// What an operator's change does to the chat at once (docs/console.md), the scripts
/// run as the console runs them, against real bridge processes on a Redis of the test's
/// own: a disabled user's socket on another process is kicked and the token refused
/// within a second, enabling lets them log in again, a new password ends the old one, a
/// user the console creates logs in, a disabled group refuses sends, and a complaint's
/// reply reaches its reporter.
@Suite("Operator changes take effect at once", .serialized, .offCooperativePool)
struct OperatorEffectsTests {
    static let audit = OperatorAudit(admin: "root", address: "127.0.0.1", now: "2026-12-07 08:00:00")
    /// A process without a heartbeat for this long is dead (the bridges beat every 5 s).
    static let deadAfter: Int64 = 15_000

    static func change(_ scripts: RedisScripts, _ user: Int, _ operation: ChangeUserByOperator.Operation) async throws -> ChangeUserByOperator.Reply {
        try await scripts.run(ChangeUserByOperator(keys: .plain, user: user, operation, audit: audit, streamCap: 100_000, deadAfterMilliseconds: deadAfter))
    }

    static func login(_ bridge: BridgeProcess, _ username: String, _ password: String) throws -> String {
        let response = try bridge.post("/api/loginChat", ["username": username, "password": password])
        return "\(response.body["msg"] as? String ?? "") \((response.body["data"] as? String) ?? "user")"
    }

    @Test("disable: the socket on the other process is kicked and the token refused within a second, login refused; enable: login works; a new password ends the old one", .timeLimit(.minutes(2)))
    func userChanges() async throws {
        let fixture = try OperatorScriptTests.Fixture()
        defer { Task { await fixture.shutdown() } }
        let (server, redis, scripts) = (fixture.server, fixture.redis, fixture.scripts)
        let (a, b) = try await (BridgeProcess(redisURL: server.url), BridgeProcess(redisURL: server.url))
        let user = try a.register()
        let (socket, _) = try await DeliveryTests.connected(b, user.token)

        #expect(try await Self.change(scripts, user.id, .disable) == .changed(version: 3, kicks: 1))
        await RevocationTests.expectKicked([socket], "disable")
        #expect(try await redis.send("LINDEX", RedisKeys.adminAudit, "0").string?.contains(#""action":"user.disable""#) == true)
        try await RevocationTests.expectRefused(user.token, on: a)
        #expect(try Self.login(a, user.username, "secret1") == "fail \(AccountService.accountUnavailable)")

        #expect(try await Self.change(scripts, user.id, .enable) == .changed(version: 4, kicks: 0))
        let again = try b.login(user.username)
        let (socketAgain, _) = try await DeliveryTests.connected(a, again.token)

        let hash = PasswordHasher(cost: 4).hash("secret9")
        let reply = try await Self.change(scripts, user.id, .edit(currentUsername: user.username, .init(passwordHash: hash)))
        #expect(reply == .changed(version: 6, kicks: 1), "the login before was version 5")
        await RevocationTests.expectKicked([socketAgain], "password")
        #expect(try Self.login(b, user.username, "secret1") == "fail \(AccountService.wrongPassword)")
        #expect(try Self.login(b, user.username, "secret9") == "ok user")
    }

    @Test("a user the console creates (user_register with its audit) logs in through /api/loginChat", .timeLimit(.minutes(1)))
    func createdUserLogsIn() async throws {
        let fixture = try OperatorScriptTests.Fixture()
        defer { Task { await fixture.shutdown() } }
        let (server, redis, scripts) = (fixture.server, fixture.redis, fixture.scripts)
        let bridge = try await BridgeProcess(redisURL: server.url)
        let id = Int(try #require(try await redis.send("INCR", RedisKeys.idCounter("user")).integer))
        let infoID = Int(try #require(try await redis.send("INCR", RedisKeys.idCounter("user_info")).integer))
        let row = UserRow(
            id: id, uuid: UUID().uuidString.lowercased(), username: "made01", password: PasswordHasher(cost: 4).hash("secret7"),
            nickname: "新人", avatar: "", role: .user, createTime: Self.audit.now
        )
        let info: JSONValue = [
            "id": .integer(Int64(infoID)), "user_id": .integer(Int64(id)), "gender": "unknown", "birthday": .null, "bio": "",
            "location": "", "website": "", "order": 50, "create_time": .string(Self.audit.now), "update_time": .string(Self.audit.now),
        ]
        let created = try await scripts.run(RegisterUser(
            keys: .plain, userID: id, infoID: infoID, username: "made01", uuid: row.uuid, deviceID: nil,
            userRow: JSONSerializer.string(.object(row.json(includingPassword: true))), infoRow: JSONSerializer.string(info),
            streamCap: 100_000, audit: Self.audit
        ))
        #expect(created == .registered)
        let response = try bridge.post("/api/loginChat", ["username": "made01", "password": "secret7"])
        #expect(response.body["msg"] as? String == "ok", "\(response)")
        let user = try #require(response.body["data"] as? [String: Any])
        #expect(user["id"] as? Int == id && user["nickname"] as? String == "新人")
    }

    @Test("a disabled group refuses sends, enabled it accepts them again; a complaint's reply is in the reporter's complaint detail", .timeLimit(.minutes(1)))
    func groupsAndComplaints() async throws {
        let fixture = try OperatorScriptTests.Fixture()
        defer { Task { await fixture.shutdown() } }
        let (server, redis, scripts) = (fixture.server, fixture.redis, fixture.scripts)
        let bridge = try await BridgeProcess(redisURL: server.url)
        let (owner, member) = try (ChatDeliveryTests.openUser(bridge), ChatDeliveryTests.openUser(bridge))
        let group = try await OfflineQueueTests.group(redis, bridge, owner: owner, members: [member])
        func send(_ text: String) throws -> String {
            let body = try bridge.post(
                "/api/chat/socket/sendmessage", ["sendto_id": group, "chatType": "group", "type": "text", "data": text], token: owner.token
            ).body
            return "\(body["msg"] as? String ?? "") \((body["data"] as? String) ?? "message")"
        }
        #expect(try send("一") == "ok message")
        #expect(try await scripts.run(ChangeGroupStatus(group: group, enabled: false, audit: Self.audit, streamCap: 100_000)) == .version(2))
        #expect(try send("二") == "fail 群不存在或者已解散或者被封禁，无法发消息")
        #expect(try await scripts.run(ChangeGroupStatus(group: group, enabled: true, audit: Self.audit, streamCap: 100_000)) == .version(3))
        #expect(try send("三") == "ok message")

        let complaint = try bridge.post(
            "/api/chat/complaint/create", ["target_id": member.id, "target_type": "single", "reason": "骚扰"], token: owner.token
        )
        let id = try #require(try await redis.send("ZREVRANGE", RedisKeys.complaints, "0", "0").array?.first?.string.flatMap { Int($0) }, "\(complaint)")
        #expect(try await scripts.run(ReplyToComplaint(id, status: 2, reply: "已处理", audit: Self.audit, streamCap: 100_000)) == .version(2))
        let detail = try #require(HTTPProbe.request(
            port: bridge.port, method: "GET", path: "/api/chat/complaint/detail/\(id)", headers: [("token", owner.token)]
        ))
        let data = (try JSONSerialization.jsonObject(with: Data(detail.body.utf8)) as? [String: Any])?["data"] as? [String: Any]
        #expect(data?["status"] as? Int == 2 && data?["admin_reply"] as? String == "已处理", "\(detail.body)")
    }
}
