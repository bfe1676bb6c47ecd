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

@Suite("Accounts and /api/chat authentication", .offCooperativePool)
struct AccountTests {
    static func name(_ prefix: String = "u") -> String {
        prefix + String(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12)).lowercased()
    }

    static func call(
        _ client: some TestClientProtocol, _ path: String, _ body: JSONValue = [:], token: String? = nil
    ) async throws -> (status: HTTPResponse.Status, body: JSONValue) {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[RequestParameters.tokenHeader] = token }
        return try await client.execute(
            uri: path, method: .post, headers: headers, body: ByteBuffer(string: JSONSerializer.string(body))
        ) { response in
            (response.status, try JSONParser.parse(String(buffer: response.body)))
        }
    }

    static func fail(_ text: String) -> JSONValue { ["msg": "fail", "data": .string(text)] }

    static func token(of response: (status: HTTPResponse.Status, body: JSONValue)) -> String? {
        response.body.objectValue?["data"]?.objectValue?["token"]?.stringValue
    }

    @Test("register answers the login result: every column but the password, plus a token")
    func register() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let username = Self.name()
            // the stream's newest entry before: other suites write to it at the same time
            // (each shard's, on a partitioned layout: the user's is known after)
            var marks: [String: String] = [:]
            for shard in testKeys.shards(of: StreamName.entities) {
                marks[shard] = try await redis.send("XREVRANGE", shard, "+", "-", "COUNT", 1).array?.first?.array?.first?.string ?? "0-0"
            }
            let response = try await Self.call(client, "/api/regChat", ["username": .string(username), "password": "secret1"])
            #expect(response.status == .ok)
            let data = try #require(response.body.objectValue?["data"]?.objectValue)
            #expect(data.keys == UserRow.columns.filter { $0 != "password" } + ["token"])
            #expect(data["username"] == .string(username))
            #expect(data["role"] == "user" && data["status"] == 1 && data["invite_confirm"] == 0 && data["order"] == 50)
            #expect(data["avatar"] == .string(BridgeSettings.defaultUserAvatar))
            #expect(data["uuid"]?.stringValue?.count == 36)
            let id = try #require(data["id"]?.integerValue)

            let stored = try await redis.send("HGETALL", testKeys.user(Int(id))).fieldValues
            #expect(stored["password"]?.hasPrefix("$2b$04$") == true)
            #expect(try await redis.send("GET", testKeys.userToken(Int(id))).string == Self.token(of: response))
            #expect(try await redis.send("HGET", testKeys.userInfo(Int(id)), "user_id").string == String(id))

            // Both entity events, in the same script as the change.
            let shard = testKeys.entities(ofUser: Int(id))
            let entries = try await redis.send("XRANGE", shard, "(" + marks[shard, default: "0-0"], "+").array ?? []
            let mine = entries.compactMap { entry -> [String: String]? in
                guard let fields = entry.array?.last else { return nil }
                let map = fields.fieldValues
                return map["row"]?.contains(username) == true || (map["entity"] == "user_info" && map["row"]?.contains("\"user_id\":\(id)") == true) ? map : nil
            }
            #expect(Set(mine.compactMap { $0["entity"] }) == ["user", "user_info"])
            // The user row's public copy is contract version 2, without the hash
            // (SecretStreamTests has the rest).
            #expect(mine.allSatisfy { $0["v"] == ($0["entity"] == "user" ? "2" : "1") && $0["op"] == "upsert" })
            let hash = try #require(stored["password"])
            #expect(!mine.contains { $0["row"]?.contains(hash) == true || $0["row"]?.contains("password") == true })
        }
    }

    @Test("a taken username, and bad parameters, are refused")
    func registrationRefusals() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let username = Self.name()
            #expect(try await Self.call(client, "/api/regChat", ["username": .string(username), "password": "secret1"]).status == .ok)
            let again = try await Self.call(client, "/api/regChat", ["username": .string(username), "password": "secret2"])
            #expect(again.status == .badRequest && again.body == Self.fail("该账号已存在，请换一个账号注册"))
            let short = try await Self.call(client, "/api/regChat", ["username": "abc", "password": "secret1"])
            #expect(short.body == Self.fail("参数username长度应在4-20之间"))
            let noPassword = try await Self.call(client, "/api/regChat", ["username": .string(Self.name())])
            #expect(noPassword.body == Self.fail("参数password不能为空"))
        }
    }

    @Test("twenty concurrent registrations of one username: exactly one succeeds")
    func raceFreeRegistration() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let username = Self.name()
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        try await Self.call(client, "/api/regChat", ["username": .string(username), "password": .string("secret\(index)")]).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)
            #expect(statuses.filter { $0 == .badRequest }.count == 19)
        }
    }

    @Test("login: wrong password, unknown account, newest login wins, logout revokes")
    func loginAndLogout() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let username = Self.name()
            let registered = try await Self.call(client, "/api/regChat", ["username": .string(username), "password": "secret1"])
            let firstToken = try #require(Self.token(of: registered))

            #expect(try await Self.call(client, "/api/loginChat", ["username": .string(username), "password": "secret2"]).body == Self.fail("账户或密码错误"))
            #expect(try await Self.call(client, "/api/loginChat", ["username": .string(Self.name()), "password": "secret1"]).body == Self.fail("账号不存在或者被禁用"))

            let login = try await Self.call(client, "/api/loginChat", ["username": .string(username), "password": "secret1"])
            #expect(login.status == .ok)
            let secondToken = try #require(Self.token(of: login))
            #expect(secondToken != firstToken)
            #expect(login.body.objectValue?["data"]?.objectValue?["last_login"]?.stringValue?.hasSuffix("Z") == true)

            // The older token is no longer the account's current one.
            #expect(try await Self.call(client, "/api/chat/logout", token: firstToken).body == Self.fail("Token 令牌不合法！"))
            #expect(try await Self.call(client, "/api/chat/logout", token: secondToken).body == ["msg": "ok", "data": true])
            #expect(try await Self.call(client, "/api/chat/logout", token: secondToken).body == Self.fail("Token 令牌不合法！"))
        }
    }

    @Test("the token checks of /api/chat, in docs/api.md's order")
    func authentication() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            #expect(try await Self.call(client, "/api/chat/logout").body == Self.fail("您没有权限访问即时通讯接口"))
            for garbage in ["x", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.AAAA"] {
                #expect(try await Self.call(client, "/api/chat/logout", token: garbage).body == Self.fail("Token 令牌不合法！"))
            }
            let username = Self.name()
            let registered = try await Self.call(client, "/api/regChat", ["username": .string(username), "password": "secret1"])
            let token = try #require(Self.token(of: registered))
            let id = try #require(registered.body.objectValue?["data"]?.objectValue?["id"]?.integerValue)

            // An operator disables the account in Redis: honoured from the next request.
            _ = try await redis.send("HSET", testKeys.user(Int(id)), "status", "0")
            #expect(try await Self.call(client, "/api/chat/logout", token: token).body == Self.fail("当前用户不存在或者已被禁用"))
            #expect(try await Self.call(client, "/api/loginChat", ["username": .string(username), "password": "secret1"]).body == Self.fail("账号不存在或者被禁用"))
            _ = try await redis.send("HSET", testKeys.user(Int(id)), "status", "1")

            // A visitor token only opens the whitelist (logout is not on it).
            let tokens = await TokenService(secret: TestBridge.secret)
            let visitorToken = try await tokens.sign(userID: Int(id), role: .visitor)
            _ = try await redis.send("SET", testKeys.userToken(Int(id)), visitorToken)
            #expect(try await Self.call(client, "/api/chat/logout", token: visitorToken).body == Self.fail("您没有权限访问，请先注册或登录"))
        }
    }

    @Test("a legacy SHA-256 password logs in once and is replaced by bcrypt")
    func legacyPasswordUpgrade() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        // An account imported from an old database: sha256("123456").
        let id = Int(try #require(try await redis.send("INCR", RedisKeys.idCounter("user")).integer))
        let username = Self.name("old")
        var row = UserRow(
            id: id, uuid: UUID().uuidString.lowercased(), username: username,
            password: "8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92",
            avatar: BridgeSettings.defaultUserAvatar, role: .user, createTime: "2024-01-01 08:00:00"
        )
        row.nickname = "老用户"
        var command = RedisCommandArguments("HSET")
        command.append(testKeys.user(id))
        for (column, value) in row.hashFields { command.append(column); command.append(value) }
        _ = try await redis.send(RedisCommand(arguments: command))
        _ = try await redis.send("SET", testKeys.userByName(username), String(id))

        try await TestBridge.app(redis: redis).test(.router) { client in
            let login = try await Self.call(client, "/api/loginChat", ["username": .string(username), "password": "123456"])
            #expect(login.status == .ok)
            #expect(login.body.objectValue?["data"]?.objectValue?["nickname"] == "老用户")
            let stored = try await redis.send("HGET", testKeys.user(id), "password").string
            #expect(stored?.hasPrefix("$2b$04$") == true)
            let again = try await Self.call(client, "/api/loginChat", ["username": .string(username), "password": "123456"])
            #expect(again.status == .ok)
        }
    }
}

@Suite("POST /api/chat/setPassword", .offCooperativePool)
struct SetPasswordTests {
    @Test("mismatch, wrong old password, success; the new password logs in, the old does not")
    func setPassword() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let username = AccountTests.name()
            let registered = try await AccountTests.call(client, "/api/regChat", ["username": .string(username), "password": "secret1"])
            let token = try #require(AccountTests.token(of: registered))
            let id = try #require(registered.body.objectValue?["data"]?.objectValue?["id"]?.integerValue)
            let call = { (body: JSONValue) in try await AccountTests.call(client, "/api/chat/setPassword", body, token: token) }

            #expect(try await call(["oldpassword": "secret1", "newpassword": "secret2", "checknewpassword": "secret3"]).body
                == AccountTests.fail("新密码与确认新密码不一致"))
            #expect(try await call(["oldpassword": "wrong-1", "newpassword": "secret2", "checknewpassword": "secret2"]).body
                == AccountTests.fail("原始密码错误，无法修改密码"))
            #expect(try await call(["oldpassword": "secret1", "newpassword": "short", "checknewpassword": "short"]).body
                == AccountTests.fail("参数newpassword长度应在6-20之间"))
            let versionBefore = try await redis.send("HGET", testKeys.user(Int(id)), "_v").integer
            #expect(try await call(["oldpassword": "secret1", "newpassword": "secret2", "checknewpassword": "secret2"]).body
                == ["msg": "ok", "data": "修改密码成功"])
            #expect(try await redis.send("HGET", testKeys.user(Int(id)), "_v").integer == versionBefore.map { $0 + 1 })

            #expect(try await AccountTests.call(client, "/api/loginChat", ["username": .string(username), "password": "secret1"]).body
                == AccountTests.fail("账户或密码错误"))
            #expect(try await AccountTests.call(client, "/api/loginChat", ["username": .string(username), "password": "secret2"]).status == .ok)
        }
    }
}
