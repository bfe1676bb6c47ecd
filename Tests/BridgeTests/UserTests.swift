import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Model
import NIOCore
import RedisClient
import Testing
import TestSupport

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

@Suite("Users and settings", .offCooperativePool)
struct UserTests {
    struct Account {
        let id: Int
        let uuid: String
        let username: String
        let token: String
    }

    static func register(_ client: some TestClientProtocol, _ username: String = AccountTests.name()) async throws -> Account {
        let response = try await AccountTests.call(client, "/api/regChat", ["username": .string(username), "password": "secret1"])
        let data = try #require(response.body.objectValue?["data"]?.objectValue)
        return Account(
            id: Int(try #require(data["id"]?.integerValue)), uuid: try #require(data["uuid"]?.stringValue),
            username: username, token: try #require(data["token"]?.stringValue)
        )
    }

    static func get(_ client: some TestClientProtocol, _ path: String) async throws -> JSONValue {
        try await client.execute(uri: path, method: .get) { try JSONParser.parse(String(buffer: $0.body)) }
    }

    static func fail(_ text: String) -> JSONValue { AccountTests.fail(text) }

    @Test("GET /api/userinfo/:uuid: the public profile, or null")
    func userinfo() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let account = try await Self.register(client)
            let profile = try await Self.get(client, "/api/userinfo/\(account.uuid)")
            let data = try #require(profile.objectValue?["data"]?.objectValue)
            #expect(data.keys == ["id", "uuid", "username", "nickname", "avatar", "role", "userset", "userinfo"])
            #expect(data["userinfo"]?.objectValue?.keys == ["id", "gender", "birthday", "bio", "location", "website"])
            #expect(data["userinfo"]?.objectValue?["gender"] == "unknown")
            #expect(try await Self.get(client, "/api/userinfo/\(UUID().uuidString.lowercased())") == ["msg": "ok", "data": .null])
            #expect(try await Self.get(client, "/api/userinfo/short") == Self.fail("参数uuid长度应在36-36之间"))
            _ = try await redis.send("HSET", testKeys.user(account.id), "status", "0")
            #expect(try await Self.get(client, "/api/userinfo/\(account.uuid)") == ["msg": "ok", "data": .null])
        }
    }

    @Test("searchUser: usernames containing the keyword; not me, not visitors, not disabled")
    func search() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let tag = String(UUID().uuidString.prefix(6)).lowercased()
            let me = try await Self.register(client, "me\(tag)x")
            let alice = try await Self.register(client, "al\(tag)ce")
            let bob = try await Self.register(client, "bo\(tag)b*")
            let disabled = try await Self.register(client, "di\(tag)s")
            _ = try await redis.send("HSET", testKeys.user(disabled.id), "status", "0")
            let visitor = try await Self.register(client, "vi\(tag)s")
            _ = try await redis.send("HSET", testKeys.user(visitor.id), "role", "visitor")

            let found = try await AccountTests.call(client, "/api/chat/searchUser", ["keyword": .string(tag)], token: me.token)
            let users = try #require(found.body.objectValue?["data"]?.arrayValue)
            #expect(users.compactMap { $0.objectValue?["username"]?.stringValue } == [alice.username, bob.username])
            #expect(users.first?.objectValue?.keys == ["id", "username", "avatar", "role", "uuid", "nickname"])
            // Glob characters match literally.
            let star = try await AccountTests.call(client, "/api/chat/searchUser", ["keyword": .string("\(tag)b*")], token: me.token)
            #expect(star.body.objectValue?["data"]?.arrayValue?.count == 1)
            let question = try await AccountTests.call(client, "/api/chat/searchUser", ["keyword": .string("\(tag)?")], token: me.token)
            #expect(question.body.objectValue?["data"] == .array([]))
            let empty = try await AccountTests.call(client, "/api/chat/searchUser", ["keyword": ""], token: me.token)
            #expect(empty.body == Self.fail("参数keyword不能为空"))
        }
    }

    @Test("userset: a JSON text, stored with its event; anything else refused")
    func userset() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await Self.register(client)
            let setting = #"{"chatset":{"visitor":{"sendCount":0,"needFollow":false},"user":{"sendCount":2,"needFollow":true}}}"#
            #expect(try await AccountTests.call(client, "/api/chat/userset", ["userset": .string(setting)], token: me.token).body == ["msg": "ok", "data": "ok"])
            #expect(try await redis.send("HGET", testKeys.user(me.id), "userset").string == setting)
            #expect(try await AccountTests.call(client, "/api/chat/userset", ["userset": "{oops"], token: me.token).body == Self.fail("用户设置格式错误"))
            #expect(try await AccountTests.call(client, "/api/chat/userset", ["userset": "1"], token: me.token).body == Self.fail("参数userset长度不能少于2个字符"))
        }
    }

    @Test("updateUserinfo: each field's rule and answer, and user:modify:{id}")
    func updateUserinfo() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await Self.register(client)
            let call = { (field: String, value: String) in
                try await AccountTests.call(client, "/api/chat/updateUserinfo", ["fieldname": .string(field), "fieldValue": .string(value)], token: me.token).body
            }
            let ok = { (text: String) -> JSONValue in ["msg": "ok", "data": .string(text)] }
            #expect(try await call("username", "other") == Self.fail("账号不可修改"))
            #expect(try await call("nickname", String(repeating: "名", count: 31)) == Self.fail("昵称长度不能超过30个字符"))
            #expect(try await call("nickname", "小明😀") == ok("修改昵称成功"))
            #expect(try await redis.send("HGET", testKeys.user(me.id), "nickname").string == "小明😀")
            #expect(try await redis.send("GET", testKeys.userModified(me.id)).string == "nickname")
            #expect(try await call("avatar", "https://x/" + String(repeating: "a", count: 991)) == Self.fail("头像地址过长不能超过1000个字符"))
            #expect(try await call("avatar", "https://example.com/a.png") == ok("头像更新成功"))
            #expect(try await call("invite_confirm", "2") == Self.fail("添加我为好友设置值错误"))
            #expect(try await call("invite_confirm", "1") == ok("设置成功"))
            #expect(try await redis.send("HGET", testKeys.user(me.id), "invite_confirm").string == "1")
            #expect(try await call("bio", "hello") == ok(""))
            #expect(try await redis.send("TTL", testKeys.userModified(me.id)).integer.map { (1...60).contains($0) } == true)
        }
    }

    @Test("getUserSetInfo and isApplyfriend read the friend rows and requests")
    func friendLookups() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await Self.register(client)
            let them = try await Self.register(client)
            let info = try await AccountTests.call(client, "/api/chat/getUserSetInfo", ["userid": .integer(Int64(them.id))], token: me.token)
            let data = try #require(info.body.objectValue?["data"]?.objectValue)
            #expect(data.keys == ["id", "userset", "invite_confirm", "uuid", "isgoodfriend", "isgoodfriend_status"])
            #expect(data["isgoodfriend"] == false && data["isgoodfriend_status"] == true)

            // They have me as a friend, blacklisted.
            _ = try await redis.send("HSET", testKeys.friends(them.id), String(me.id), #"{"id":1,"user_id":\#(them.id),"friend_id":\#(me.id),"isblack":1,"status":1}"#)
            let blocked = try await AccountTests.call(client, "/api/chat/getUserSetInfo", ["userid": .string(String(them.id))], token: me.token)
            #expect(blocked.body.objectValue?["data"]?.objectValue?["isgoodfriend"] == true)
            #expect(blocked.body.objectValue?["data"]?.objectValue?["isgoodfriend_status"] == false)
            _ = try await redis.send("HSET", testKeys.user(them.id), "role", "visitor")
            #expect(try await AccountTests.call(client, "/api/chat/getUserSetInfo", ["userid": .integer(Int64(them.id))], token: me.token).body
                == Self.fail("用户不存在或者为游客，无法加为好友"))

            #expect(try await AccountTests.call(client, "/api/chat/isApplyfriend/\(them.uuid)", [:], token: me.token).body == Self.fail("用户申请信息不存在"))
            #expect(try await AccountTests.call(client, "/api/chat/isApplyfriend/\(UUID().uuidString.lowercased())", [:], token: me.token).body == Self.fail("用户不存在"))
            let requestID = Int(try #require(try await redis.send("INCR", RedisKeys.idCounter("goodfriendapply")).integer))
            // The request's row and pair key: the recipient's (my) partition.
            _ = try await redis.send("HSET", testKeys.friendRequest(requestID, to: me.id), "id", String(requestID), "user_id", String(them.id), "friend_id", String(me.id), "nickname", "", "status", "pending")
            _ = try await redis.send("SET", testKeys.friendRequestPair(from: them.id, to: me.id), String(requestID))
            let pending = try await AccountTests.call(client, "/api/chat/isApplyfriend/\(them.uuid)", [:], token: me.token)
            #expect(pending.body.objectValue?["data"]?.objectValue?["id"] == .integer(Int64(requestID)))
            #expect(pending.body.objectValue?["data"]?.objectValue?["status"] == "pending")
        }
    }
}

extension JSONValue {
    var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }
}
