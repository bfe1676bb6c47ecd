import Foundation
import HummingbirdTesting
import Model
import RedisClient
import Testing
import TestSupport

@testable import ChatAPI

/// The `/api/chat` authentication reads only what a route needs (`ChatAuthentication.Reads`):
/// the account's row (`searchUser`), its delivery target (`chatGetmessageOffLine`), or nothing
/// before a send, whose script checks. Each must refuse from the very next request after
/// a ban or a newer login, with the same text and in the same order as before.
@Suite("Chat authentication: every kind of route refuses at once", .offCooperativePool)
struct ChatAuthenticationTests {
    typealias Account = UserTests.Account

    static let invalidToken = AccountTests.fail("Token 令牌不合法！")
    static let unavailable = AccountTests.fail("当前用户不存在或者已被禁用")

    /// One request of each kind, answered.
    static func requests(
        _ client: some TestClientProtocol, _ me: Account, to peer: Account, token: String? = nil
    ) async throws -> [(String, JSONValue)] {
        let token = token ?? me.token
        let body: JSONValue = ["sendto_id": .integer(Int64(peer.id)), "chatType": "single", "type": "text", "data": "hi"]
        return [
            ("row", try await AccountTests.call(client, "/api/chat/searchUser", ["keyword": "zz-nobody"], token: token).body),
            ("target", try await AccountTests.call(client, "/api/chat/chatGetmessageOffLine", token: token).body),
            ("none", try await AccountTests.call(client, "/api/chat/socket/sendmessage", body, token: token).body),
        ]
    }

    static func expectAll(_ answers: [(String, JSONValue)], _ expected: JSONValue, _ what: String) {
        for (kind, body) in answers { #expect(body == expected, "\(what): \(kind) route: \(body)") }
    }

    static func expectAccepted(_ answers: [(String, JSONValue)], _ what: String) {
        for (kind, body) in answers { #expect(body.objectValue?["msg"] == "ok", "\(what): \(kind) route: \(body)") }
    }

    @Test("a ban between two requests refuses the next one; lifting it lets the next one in")
    func banBetweenRequests() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let (me, you) = try await (UserTests.register(client), UserTests.register(client))
            try await MessageTests.befriend(redis, owner: you.id, friend: me.id)
            Self.expectAccepted(try await Self.requests(client, me, to: you), "before")
            _ = try await redis.send("HSET", testKeys.user(me.id), "status", "0")
            Self.expectAll(try await Self.requests(client, me, to: you), Self.unavailable, "banned")
            _ = try await redis.send("HSET", testKeys.user(me.id), "status", "1")
            Self.expectAccepted(try await Self.requests(client, me, to: you), "ban lifted")
        }
    }

    @Test("a newer login refuses the older token from the next request; the new one is let in")
    func newerLoginBetweenRequests() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let (me, you) = try await (UserTests.register(client), UserTests.register(client))
            try await MessageTests.befriend(redis, owner: you.id, friend: me.id)
            Self.expectAccepted(try await Self.requests(client, me, to: you), "before")
            let login = try await AccountTests.call(client, "/api/loginChat", ["username": .string(me.username), "password": "secret1"])
            let newer = try #require(AccountTests.token(of: login), "\(login.body)")
            Self.expectAll(try await Self.requests(client, me, to: you), Self.invalidToken, "older token")
            Self.expectAccepted(try await Self.requests(client, me, to: you, token: newer), "newer token")
        }
    }

    @Test("a send the script never saw still answers the token and the account first")
    func sendRefusalsInOrder() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let (me, you) = try await (UserTests.register(client), UserTests.register(client))
            let toMyself: JSONValue = ["sendto_id": .integer(Int64(me.id)), "chatType": "single", "type": "text", "data": "hi"]
            let malformed: JSONValue = ["sendto_id": .integer(Int64(you.id)), "chatType": "single", "type": "text"]
            let send = { (body: JSONValue) in
                try await AccountTests.call(client, "/api/chat/socket/sendmessage", body, token: me.token).body
            }
            #expect(try await send(toMyself) == AccountTests.fail("不能给自己发消息"))
            #expect(try await send(malformed) == AccountTests.fail("参数data不能为空"))
            _ = try await redis.send("HSET", testKeys.user(me.id), "status", "0")
            #expect(try await send(toMyself) == Self.unavailable)
            #expect(try await send(malformed) == Self.unavailable)
            _ = try await redis.send("HSET", testKeys.user(me.id), "status", "1")
            _ = try await redis.send("SET", testKeys.userToken(me.id), "another-token")
            #expect(try await send(toMyself) == Self.invalidToken)
            #expect(try await send(malformed) == Self.invalidToken)
            _ = try await redis.send("DEL", testKeys.userToken(me.id))
            #expect(try await send(toMyself) == Self.invalidToken)
        }
    }
}
