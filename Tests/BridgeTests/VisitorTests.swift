import Crypto
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

@Suite("The visitor endpoints", .offCooperativePool)
struct VisitorTests {
    /// A device id as the client makes one: 36 characters of `[\w-]`.
    static func deviceID() -> String { UUID().uuidString.lowercased() }

    /// The signature exactly as the deployed client computes it (its JavaScript:
    /// sha256 of the sorted query string plus the literal "APP_SECRET", in hex).
    static func sign(deviceID: String, timestamp: String, salt: String = "45ncashdaksh2!#@3nxjdas*_259") -> String {
        let text = "deviceId=\(deviceID)&salt=\(salt)&timestamp=\(timestamp)" + "APP_SECRET"
        return SHA256.hash(data: Data(text.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }

    static func now() -> String { String(Int64(Date().timeIntervalSince1970 * 1000)) }

    static func call(
        _ client: some TestClientProtocol, _ path: String, _ body: JSONObject, sign: String?
    ) async throws -> JSONValue {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let sign { headers[VisitorRoutes.signatureHeader] = sign }
        return try await client.execute(
            uri: path, method: .post, headers: headers, body: ByteBuffer(string: JSONSerializer.string(.object(body)))
        ) { try JSONParser.parse(String(buffer: $0.body)) }
    }

    static func signed(_ client: some TestClientProtocol, _ path: String, device: String, extra: JSONObject = [:]) async throws -> JSONValue {
        let timestamp = now()
        var body = extra
        body["deviceId"] = .string(device)
        body["timestamp"] = .string(timestamp)
        return try await call(client, path, body, sign: sign(deviceID: device, timestamp: timestamp))
    }

    static func data(_ response: JSONValue) -> JSONObject? { response.objectValue?["data"]?.objectValue }

    @Test("visitorRegister creates the device's account once and logs it in as a visitor")
    func registerVisitor() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let device = Self.deviceID()
            let first = try await Self.signed(client, "/api/visitorRegister", device: device, extra: ["uniplatform": "app", "devicebrand": "HUAWEI"])
            let account = try #require(Self.data(first))
            #expect(account["username"] == .string("VIS" + device.prefix(8)))
            #expect(account["role"] == "visitor" && account["devicefingeruuid"] == .string(device))
            #expect(account["uniplatform"] == "app" && account["devicebrand"] == "HUAWEI")
            #expect(account["token"]?.stringValue != nil && account["password"] == nil)

            let second = try await Self.signed(client, "/api/visitorRegister", device: device, extra: ["devicebrand": "Xiaomi"])
            let again = try #require(Self.data(second))
            #expect(again["id"] == account["id"])
            #expect(again["devicebrand"] == "Xiaomi")  // device fields follow every call
            #expect(again["token"] != account["token"])
        }
    }

    @Test("the checks, in order: header, validation, signature, age, device id")
    func checks() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let device = Self.deviceID()
            let timestamp = Self.now()
            let body = { (device: String, timestamp: String) -> JSONObject in
                ["deviceId": .string(device), "timestamp": .string(timestamp)]
            }
            var answers: [JSONValue] = []
            answers.append(try await Self.call(client, "/api/visitorRegister", body(device, timestamp), sign: nil))
            answers.append(try await Self.call(client, "/api/visitorRegister", body("short", timestamp), sign: "x"))
            answers.append(try await Self.call(client, "/api/visitorRegister", body(device, timestamp), sign: "00"))
            let old = String(Int64(timestamp)! - 300_001)
            answers.append(try await Self.call(client, "/api/visitorRegister", body(device, old), sign: Self.sign(deviceID: device, timestamp: old)))
            let dotted = String(device.dropLast()) + "."
            answers.append(try await Self.call(client, "/api/visitorRegister", body(dotted, timestamp), sign: Self.sign(deviceID: dotted, timestamp: timestamp)))
            let long = device + "a"
            answers.append(try await Self.call(client, "/api/visitorRegister", body(long, timestamp), sign: Self.sign(deviceID: long, timestamp: timestamp)))
            let texts = ["非法访问", "参数deviceId长度应在36-200之间", "非法签名", "请求已过期", "无效标识", "无效标识"]
            #expect(answers == texts.map { ["msg": "fail", "data": .string($0)] })
        }
    }

    @Test("the sixth call of a device within an hour is refused, on any of the three endpoints")
    func rateLimit() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let device = Self.deviceID()
            for _ in 0..<5 {
                #expect(Self.data(try await Self.signed(client, "/api/visitorRegister", device: device)) != nil)
            }
            let sixth = try await Self.signed(client, "/api/visitorloginChat", device: device, extra: ["username": "nobody1", "password": "secret1"])
            #expect(sixth == ["msg": "fail", "data": "请求过于频繁，请1个小时后再试"])
            let ttl = try await redis.send("TTL", RedisKeys.visitorCalls(device)).integer ?? 0
            #expect((3500...3600).contains(ttl))
        }
    }

    @Test("visitorregChat turns the device's visitor account into a user; visitorloginChat logs in")
    func upgradeAndLogin() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let device = Self.deviceID()
            let visitor = try #require(Self.data(try await Self.signed(client, "/api/visitorRegister", device: device)))
            let username = AccountTests.name("v")
            let upgraded = try await Self.signed(client, "/api/visitorregChat", device: device, extra: ["username": .string(username), "password": "secret1"])
            let user = try #require(Self.data(upgraded))
            #expect(user["id"] == visitor["id"])
            #expect(user["username"] == .string(username) && user["role"] == "user")
            // The visitor name is free again; the new one is taken.
            #expect(try await redis.send("EXISTS", testKeys.userByName(visitor["username"]!.stringValue!)) == .integer(0))
            let taken = try await Self.signed(client, "/api/visitorregChat", device: Self.deviceID(), extra: ["username": .string(username), "password": "secret1"])
            #expect(taken == ["msg": "fail", "data": "该账号已存在，请换一个账号注册"])

            let login = try await Self.signed(client, "/api/visitorloginChat", device: Self.deviceID(), extra: ["username": .string(username), "password": "secret1"])
            #expect(Self.data(login)?["role"] == "user")
            let wrong = try await Self.signed(client, "/api/visitorloginChat", device: Self.deviceID(), extra: ["username": .string(username), "password": "secret2"])
            #expect(wrong == ["msg": "fail", "data": "账户或密码错误"])

            // Issue 18: the device id alone no longer opens the registered account bound to
            // it (it used to log it in, in visitor mode).
            let again = try await Self.signed(client, "/api/visitorRegister", device: device)
            #expect(again == ["msg": "fail", "data": "该设备已绑定注册账号，请使用账号密码登录"])
        }
    }

    @Test("a device bound to a registered account opens nothing: visitorRegister refused, visitorregChat makes a new account")
    func deviceIsNoCredential() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let device = Self.deviceID()
            let visitor = try #require(Self.data(try await Self.signed(client, "/api/visitorRegister", device: device)))
            let id = try #require(visitor["id"]?.integerValue)
            let username = AccountTests.name("v")
            let upgraded = try await Self.signed(client, "/api/visitorregChat", device: device, extra: ["username": .string(username), "password": "secret1"])
            #expect(Self.data(upgraded)?["id"] == visitor["id"])
            let before = try await redis.send("HGETALL", testKeys.user(Int(id))).fieldValues
            let token = try await redis.send("GET", testKeys.userToken(Int(id))).string

            // Knowing the device id (and the salt every client ships) is not enough.
            let register = try await Self.signed(client, "/api/visitorRegister", device: device)
            #expect(register == ["msg": "fail", "data": "该设备已绑定注册账号，请使用账号密码登录"])
            let other = AccountTests.name("x")
            let takeover = try #require(Self.data(try await Self.signed(
                client, "/api/visitorregChat", device: device, extra: ["username": .string(other), "password": "secret9"]
            )))
            #expect(takeover["id"] != visitor["id"] && takeover["username"] == .string(other) && takeover["role"] == "user")
            #expect(takeover["devicefingeruuid"] == .null)

            // The account is as it was: name, password, token, device binding.
            #expect(try await redis.send("HGETALL", testKeys.user(Int(id))).fieldValues == before)
            #expect(try await redis.send("GET", testKeys.userToken(Int(id))).string == token)
            #expect(try await redis.send("GET", testKeys.userByDevice(device)).string == String(id))
            let login = try await AccountTests.call(client, "/api/loginChat", ["username": .string(username), "password": "secret1"])
            #expect(login.status == .ok)
        }
    }
}
