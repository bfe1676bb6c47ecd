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

    /// The change as the console makes it in the run's layout: on a tagged one, the audit
    /// row a step of its own after it (the reply then read as one Redis' `.changed`).
    static func change(_ scripts: RedisScripts, _ user: Int, _ operation: ChangeUserByOperator.Operation) async throws -> ChangeUserByOperator.Reply {
        let reply = try await scripts.run(ChangeUserByOperator(
            keys: testKeys, user: user, operation, audit: audit, streamCap: 100_000, deadAfterMilliseconds: deadAfter
        ))
        guard case .changedUnaudited(let version, let kicks, let action, let detail) = reply else { return reply }
        _ = try await scripts.run(RecordAudit(
            keys: testKeys, audit: audit, streamCap: 100_000, action: action, targetType: "user", targetID: user, detail: detail
        ))
        return .changed(version: version, kicks: kicks)
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
        #expect(try await redis.send("LINDEX", testKeys.adminAudit, "0").string?.contains(#""action":"user.disable""#) == true)
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
        let created = try await AccountStore(scripts: scripts, keys: testKeys, streamCap: 100_000).registerByOperator(
            username: "made01", passwordHash: PasswordHasher(cost: 4).hash("secret7"), nickname: "新人", avatar: "", audit: Self.audit
        )
        let id = created.id
        #expect(try await redis.send("LINDEX", testKeys.adminAudit, "0").string?.contains(#""action":"user.create""#) == true)
        let response = try bridge.post("/api/loginChat", ["username": "made01", "password": "secret7"])
        #expect(response.body["msg"] as? String == "ok", "\(response)")
        let user = try #require(response.body["data"] as? [String: Any])
        #expect(user["id"] as? Int == id && user["nickname"] as? String == "新人")
    }

    @Test("a disabled group refuses sends, enabled it accepts them again", .timeLimit(.minutes(1)))
    func groups() async throws {
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
        // The console's change: one group_status run on one Redis; on a tagged layout the
        // group's step, then the members' partitions (the audit row is the console's own step).
        func setStatus(enabled: Bool) async throws -> Int? {
            guard testKeys.layout.isTagged else {
                guard case .version(let version) = try await scripts.run(
                    ChangeGroupStatus(group: group, enabled: enabled, audit: Self.audit, streamCap: 100_000)
                ) else { return nil }
                return version
            }
            let steps = GroupChangeSteps(scripts: scripts, keys: testKeys, streamCap: 100_000)
            let change = UUID().uuidString
            guard case .status(let members, let version) = try await steps.first(
                .status(enabled: enabled), group: group, by: 0, change: change, now: Self.audit.now
            ) else { return nil }
            if !members.isEmpty { try await steps.finish(change, group: group, members: members) }
            return version
        }
        #expect(try send("一") == "ok message")
        #expect(try await setStatus(enabled: false) == 2)
        #expect(try send("二") == "fail 群不存在或者已解散或者被封禁，无法发消息")
        #expect(try await setStatus(enabled: true) == 3)
        #expect(try send("三") == "ok message")
    }

    @Test("a complaint's reply (in the reporter's partition, its audit a step of its own on a tagged layout) is in the reporter's complaint detail", .timeLimit(.minutes(1)))
    func complaintReply() async throws {
        let fixture = try OperatorScriptTests.Fixture()
        defer { Task { await fixture.shutdown() } }
        let (server, redis, scripts) = (fixture.server, fixture.redis, fixture.scripts)
        let bridge = try await BridgeProcess(redisURL: server.url)
        let (owner, member) = try (ChatDeliveryTests.openUser(bridge), ChatDeliveryTests.openUser(bridge))
        let complaint = try bridge.post(
            "/api/chat/complaint/create", ["target_id": member.id, "target_type": "single", "reason": "骚扰"], token: owner.token
        )
        let partition = testKeys.layout.partition(ofUser: owner.id)
        let id = try #require(
            try await redis.send("ZREVRANGE", testKeys.complaints(partition: partition), "0", "0").array?.first?.string.flatMap { Int($0) },
            "\(complaint)"
        )
        let replied = try await scripts.run(ReplyToComplaint(
            keys: testKeys, id, partition: partition, status: 2, reply: "已处理", audit: Self.audit, streamCap: 100_000
        ))
        switch replied {
        case .version(let version): #expect(version == 2 && !testKeys.layout.isTagged)
        case .changedUnaudited(let version, let action, _): #expect(version == 2 && action == "complaint.reply" && testKeys.layout.isTagged)
        case .refused(let refusal): Issue.record("\(refusal)")
        }
        let detail = try #require(HTTPProbe.request(
            port: bridge.port, method: "GET", path: "/api/chat/complaint/detail/\(id)", headers: [("token", owner.token)]
        ))
        let data = (try JSONSerialization.jsonObject(with: Data(detail.body.utf8)) as? [String: Any])?["data"] as? [String: Any]
        #expect(data?["status"] as? Int == 2 && data?["admin_reply"] as? String == "已处理", "\(detail.body)")
    }
}
