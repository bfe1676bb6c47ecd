import Foundation
import Model
import RedisClient
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// Revocation (docs/api.md, *Revocation*): a logout, a password change, a ban and an
/// operator's kick end the account's sessions on every process within a second — each
/// live socket gets `force_logout` and a close frame, and the tokens fail — and a
/// heartbeat kicks what is left. Real bridge processes on the shared test Redis, each
/// user with a socket on both; the bridges keep the default heartbeat (5 s), so a kick
/// within a second is the revocation's own.
@Suite("Revocation reaches every process's sockets", .serialized, .offCooperativePool)
struct RevocationTests {
    typealias Account = (id: Int, token: String, username: String)

    static let kickFrame = #"{"msg":"force_logout","data":"你的账号在其他设备登录"}"#

    static func bridges(settings: [String: String] = [:]) async throws -> (BridgeProcess, BridgeProcess) {
        let url = try TestEnvironment.redisURL()
        return try await (BridgeProcess(redisURL: url, settings: settings), BridgeProcess(redisURL: url, settings: settings))
    }

    /// One socket of the account on each process (the same token: neither kicks the other).
    static func sockets(_ account: Account, on bridges: [BridgeProcess]) async throws -> [WebSocketTestClient] {
        var sockets: [WebSocketTestClient] = []
        for bridge in bridges { sockets.append(try await DeliveryTests.connected(bridge, account.token).0) }
        return sockets
    }

    /// `force_logout`, then a close frame, within `seconds` of now.
    static func expectKicked(_ sockets: [WebSocketTestClient], within seconds: Double = 1, _ what: String) async {
        let started = Date()
        for (index, socket) in sockets.enumerated() {
            let left = max(0.01, seconds - Date().timeIntervalSince(started))
            let events = (try? await socket.eventsUntilEnd(within: left)) ?? []
            let texts = events.compactMap { if case .text(let text) = $0 { text } else { nil } }
            #expect(texts.last == Self.kickFrame, "\(what): socket \(index) within \(seconds) s: \(events)")
            #expect(Array(events.suffix(2)) == [.closeFrame(code: 1000), .disconnected], "\(what): socket \(index)")
        }
    }

    /// The token refused over HTTP and on the WebSocket.
    static func expectRefused(_ token: String, on bridge: BridgeProcess, http text: String = "Token 令牌不合法！") async throws {
        let response = try bridge.post("/api/chat/chatGetmessageOffLine", token: token)
        #expect(response.status == 400 && response.body["data"] as? String == text, "\(response)")
        #expect(try await bridge.connect(token: token).eventsUntilEnd() == GatewayTests.refusal("Token 不合法"))
    }

    /// No delivery target and no live socket left.
    static func expectNoSessions(_ id: Int, _ redis: RedisClient) async throws {
        _ = try await eventually(within: 5) {
            try await redis.send("EXISTS", testKeys.online(id), testKeys.sockets(id)).integer == 0
        }
    }

    /// The service an operator's console calls, here in the test process (a node of its own).
    static func accounts(_ redis: RedisClient) async -> AccountService {
        await TestBridge.dependencies(redis: redis).accounts
    }

    @Test("a logout kicks the account's sockets on both processes within a second; the token fails", .timeLimit(.minutes(1)))
    func logout() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let (a, b) = try await Self.bridges()
        let user = try a.register()
        let sockets = try await Self.sockets(user, on: [a, b])

        #expect(try a.post("/api/chat/logout", token: user.token).body["msg"] as? String == "ok")
        await Self.expectKicked(sockets, "logout")
        try await Self.expectRefused(user.token, on: b)
        try await Self.expectNoSessions(user.id, redis)
        #expect(try a.metric(#"chat_sessions_revoked_total{reason="logout"}"#) == 2)
        // Logging in again works as before.
        let again = try b.login(user.username)
        let (socket, _) = try await DeliveryTests.connected(a, again.token)
        await socket.close()
    }

    @Test("a password change kicks every socket within a second; the old token fails, the new one (header token) works", .timeLimit(.minutes(1)))
    func passwordChange() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let (a, b) = try await Self.bridges()
        let user = try a.register()
        let sockets = try await Self.sockets(user, on: [a, b])

        let body = Array(#"{"oldpassword":"secret1","newpassword":"secret2","checknewpassword":"secret2"}"#.utf8)
        let response = try #require(HTTPProbe.request(
            port: b.port, method: "POST", path: "/api/chat/setPassword",
            headers: [("Content-Type", "application/json"), ("token", user.token)], body: body
        ))
        // The body is the deployed client's, unchanged; the new token rides in a header.
        #expect(response.status == 200 && response.body == #"{"msg":"ok","data":"修改密码成功"}"#)
        let token = try #require(response.headers["token"])
        #expect(token != user.token)
        await Self.expectKicked(sockets, "password change")

        try await Self.expectRefused(user.token, on: a)
        #expect(try a.post("/api/chat/chatGetmessageOffLine", token: token).status == 200)
        #expect(try await redis.send("GET", testKeys.userToken(user.id)).string == token)
        let (socket, _) = try await DeliveryTests.connected(a, token)
        #expect(await socket.texts(for: 0.3).allSatisfy { !$0.contains("force_logout") })
        await socket.close()
        #expect(try a.post("/api/loginChat", ["username": user.username, "password": "secret1"]).body["data"] as? String == "账户或密码错误")
        #expect(try a.post("/api/loginChat", ["username": user.username, "password": "secret2"]).status == 200)
    }

    @Test("a ban (the operator's function) kicks every socket within a second; tokens and logins fail until enabled", .timeLimit(.minutes(1)))
    func ban() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let (a, b) = try await Self.bridges()
        let accounts = await Self.accounts(redis)
        let user = try a.register()
        let sockets = try await Self.sockets(user, on: [a, b])

        try await accounts.disable(userID: user.id)
        await Self.expectKicked(sockets, "ban")
        #expect(try await redis.send("HGET", testKeys.user(user.id), "status").string == "0")
        try await Self.expectRefused(user.token, on: a)
        try await Self.expectNoSessions(user.id, redis)
        #expect(try a.post("/api/loginChat", ["username": user.username, "password": "secret1"]).body["data"] as? String == "账号不存在或者被禁用")

        try await accounts.enable(userID: user.id)
        // The old token stays revoked; a new login works.
        try await Self.expectRefused(user.token, on: b)
        let again = try b.login(user.username)
        let (socket, _) = try await DeliveryTests.connected(b, again.token)
        await socket.close()
        await #expect(throws: AccountStore.Refusal.unavailable) { try await accounts.disable(userID: 2_000_000_000) }
    }

    @Test("an operator's kick closes every socket within a second and revokes the token; logging in again works", .timeLimit(.minutes(1)))
    func kick() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let (a, b) = try await Self.bridges()
        let accounts = await Self.accounts(redis)
        let user = try a.register()
        let sockets = try await Self.sockets(user, on: [a, b])

        try await accounts.kick(userID: user.id)
        await Self.expectKicked(sockets, "kick")
        try await Self.expectRefused(user.token, on: a)
        try await Self.expectNoSessions(user.id, redis)
        #expect(try await redis.send("HGET", testKeys.user(user.id), "status").string == "1")
        let again = try a.login(user.username)
        let (socket, _) = try await DeliveryTests.connected(b, again.token)
        await socket.close()
    }

    @Test("what a revocation missed, the heartbeat kicks: status 0 set by hand, a token replaced behind the socket's back", .timeLimit(.minutes(1)))
    func heartbeat() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let (a, b) = try await Self.bridges(settings: DeliveryTests.settings)

        // An operator's HSET: no revocation runs, the next heartbeat kicks.
        let banned = try a.register()
        let bannedSockets = try await Self.sockets(banned, on: [a, b])
        _ = try await redis.send("HSET", testKeys.user(banned.id), "status", "0")
        await Self.expectKicked(bannedSockets, within: 2, "status 0 by hand")
        try await Self.expectNoSessions(banned.id, redis)

        // A newer login over HTTP, no new socket: the older token's sockets are kicked.
        let user = try a.register()
        let sockets = try await Self.sockets(user, on: [a, b])
        _ = try b.login(user.username)
        await Self.expectKicked(sockets, within: 2, "a newer login")
        #expect(try b.metric(#"chat_sessions_revoked_total{reason="heartbeat"}"#) >= 1)

        // A socket whose token is current stays, heartbeat after heartbeat.
        let kept = try a.register()
        let (socket, _) = try await DeliveryTests.connected(b, kept.token)
        #expect(await socket.texts(for: 1).allSatisfy { !$0.contains("force_logout") })
        #expect(DeliveryTarget(try await redis.send("GET", testKeys.online(kept.id)).string ?? "")?.node == b.node)
        await socket.close()
    }
}
