import ChatRuntime
import Foundation
import Hummingbird
import HummingbirdTesting
import Model
import RedisClient
import Testing
import TestSupport

@testable import Console

extension JSONValue {
    var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}

/// The console's routes in-process (HummingbirdTesting) against the real Redis of
/// `make test`: the session, CSRF and lockout rules, and the JSON API's operations
/// through the admin scripts. Every test uses names of its own.
@Suite struct ConsoleAPITests {
    struct Reply {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let text: String
        var json: JSONValue? { try? JSONParser.parse(text) }
        var data: JSONValue? { json?.objectValue?["data"] }
        var message: String? { json?.objectValue?["msg"]?.stringValue }
        /// The value a `Set-Cookie` of this reply gives `name`.
        func cookie(_ name: String) -> String? {
            headers[values: .setCookie].lazy.compactMap { line -> String? in
                guard line.hasPrefix(name + "=") else { return nil }
                return String(line.dropFirst(name.count + 1).prefix { $0 != ";" })
            }.first
        }
    }

    static func unique(_ prefix: String) -> String { prefix + String(UInt32.random(in: 0...UInt32.max), radix: 36) }

    /// A console on the test Redis, with an admin of its own and the given lockout.
    static func withConsole(
        accountLimit: Int = 5, trustForwardedFor: Bool = false, _ body: @escaping @Sendable (any TestClientProtocol, _ admin: String, _ password: String, RedisClient) async throws -> Void
    ) async throws {
        let redis = RedisClient(configuration: try RedisConfiguration.forTests(url: TestEnvironment.redisURL()))
        var settings = ConsoleSettings()
        settings.bcryptCost = 4
        settings.login.accountLimit = accountLimit
        settings.trustForwardedFor = trustForwardedFor
        let admin = unique("ops")
        let password = AdminPassword.generate()
        try await AdminAccounts(redis: redis, keys: testKeys, hasher: .init(cost: 4)).put(name: admin, password: password, enabled: true)
        let app = Application(router: ConsoleRoutes(dependencies: ConsoleDependencies(settings: settings, keys: testKeys, redis: redis)).router())
        do {
            try await app.test(.router) { client in try await body(client, admin, password, redis) }
        } catch {
            await redis.shutdown()
            throw error
        }
        await redis.shutdown()
    }

    static func call(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, json: JSONValue? = nil,
        form: String? = nil, cookies: [String: String] = [:], csrf: String? = nil, forwardedFor: String? = nil
    ) async throws -> Reply {
        var headers: HTTPFields = [:]
        if let forwardedFor { headers[ClientAddressMiddleware.forwardedFor] = forwardedFor }
        if json != nil { headers[.contentType] = "application/json" }
        if form != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        if let csrf { headers[.csrfToken] = csrf }
        let body = json.map { ByteBuffer(string: JSONSerializer.string($0)) } ?? form.map { ByteBuffer(string: $0) }
        return try await client.execute(uri: path, method: method, headers: headers, body: body) { response in
            Reply(status: response.status, headers: response.headers, text: String(buffer: response.body))
        }
    }

    /// Logs in through the JSON API: the session cookie and the CSRF token.
    static func logIn(_ client: some TestClientProtocol, _ admin: String, _ password: String) async throws -> (session: String, csrf: String) {
        let reply = try await call(client, .post, "/api/login", json: ["username": .string(admin), "password": .string(password)])
        let session = try #require(reply.cookie(SessionCookies.session))
        let csrf = try #require(reply.data?.objectValue?["csrf"]?.stringValue)
        #expect(reply.data?.objectValue?["admin"]?.stringValue == admin)
        return (session, csrf)
    }

    @Test("the JSON API: 401 without a session, 403 without the CSRF token; create, a taken name, edit, disable, enable, search and the audit")
    func jsonAPI() async throws {
        try await Self.withConsole { client, admin, password, redis in
            #expect(try await Self.call(client, .get, "/api/users").status == .unauthorized)
            let (session, csrf) = try await Self.logIn(client, admin, password)
            let cookies = [SessionCookies.session: session]
            let username = Self.unique("cu")
            let create: JSONValue = ["username": .string(username), "password": "secret1", "nickname": "<b>控制台</b>"]

            let forbidden = try await Self.call(client, .post, "/api/users", json: create, cookies: cookies, csrf: "wrong")
            #expect(forbidden.status == .forbidden)
            #expect(forbidden.text == #"{"msg":"fail","data":"请求已过期，请刷新页面后重试"}"#)
            #expect(try await redis.send("GET", testKeys.userByName(username)).isNull)

            let created = try await Self.call(client, .post, "/api/users", json: create, cookies: cookies, csrf: csrf)
            #expect(created.message == "ok")
            let id = try #require(created.data?.objectValue?["id"]?.integerValue.map(Int.init))
            #expect(created.data?.objectValue?["nickname"]?.stringValue == "<b>控制台</b>")
            #expect(created.data?.objectValue?["password"] == nil)
            #expect(try await redis.send("ZSCORE", testKeys.users(ofUser: id), String(id)).integer == Int64(id))

            let again = try await Self.call(client, .post, "/api/users", json: create, cookies: cookies, csrf: csrf)
            #expect(again.status == .ok && again.text == #"{"msg":"fail","data":"即时通讯用户账号已存在"}"#)

            let edited = try await Self.call(client, .post, "/api/users/\(id)", json: ["nickname": "新名字"], cookies: cookies, csrf: csrf)
            #expect(edited.data?.objectValue?["nickname"]?.stringValue == "新名字")
            #expect(edited.data?.objectValue?["username"]?.stringValue == username)

            let found = try await Self.call(client, .get, "/api/users?q=\(QueryText.encode("新名"))&size=100", cookies: cookies)
            let ids = found.data?.objectValue?["list"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.integerValue.map(Int.init) } ?? []
            #expect(ids.contains(id))
            let byID = try await Self.call(client, .get, "/api/users?q=\(id)", cookies: cookies)
            #expect(byID.data?.objectValue?["list"]?.arrayValue?.count == 1)

            #expect(try await Self.call(client, .post, "/api/users/\(id)/disable", cookies: cookies, csrf: csrf).message == "ok")
            #expect(try await redis.send("HGET", testKeys.user(id), "status").string == "0")
            #expect(try await Self.call(client, .post, "/api/users/\(id)/enable", cookies: cookies, csrf: csrf).message == "ok")
            #expect(try await redis.send("HGET", testKeys.user(id), "status").string == "1")
            let missing = try await Self.call(client, .post, "/api/users/999999999/disable", cookies: cookies, csrf: csrf)
            #expect(missing.text == #"{"msg":"fail","data":"该即时通讯用户记录不存在"}"#)

            let audit = try await Self.call(client, .get, "/api/audit?size=100", cookies: cookies)
            let mine = (audit.data?.objectValue?["list"]?.arrayValue ?? []).compactMap(\.objectValue).filter {
                $0["admin"]?.stringValue == admin
            }
            #expect(mine.map { $0["action"]?.stringValue ?? "" } == ["user.enable", "user.disable", "user.edit", "user.create"])

            let logout = try await Self.call(client, .post, "/api/logout", cookies: cookies, csrf: csrf)
            #expect(logout.message == "ok")
            #expect(try await Self.call(client, .get, "/api/users", cookies: cookies).status == .unauthorized)
        }
    }

    @Test("the login form: the double-submit token, the session cookie HttpOnly and SameSite=Strict; a page's form without its token is 403")
    func loginForm() async throws {
        try await Self.withConsole { client, admin, password, _ in
            let page = try await Self.call(client, .get, "/login")
            let token = try #require(page.cookie(SessionCookies.login))
            #expect(page.text.contains(#"<input type="hidden" name="csrf" value="\#(token)">"#))
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(page.headers[.cacheControl] == "no-store")

            let form = "username=\(admin)&password=\(password)"
            let crossSite = try await Self.call(client, .post, "/login", form: form + "&csrf=\(RandomToken.make())", cookies: [SessionCookies.login: token])
            #expect(crossSite.status == .forbidden)
            #expect(crossSite.cookie(SessionCookies.session) == nil)

            let wrong = try await Self.call(client, .post, "/login", form: "username=\(admin)&password=nope&csrf=\(token)", cookies: [SessionCookies.login: token])
            #expect(wrong.status == .ok && wrong.text.contains(#"<p id="error" class="error">管理员账号或密码错误</p>"#))

            let login = try await Self.call(client, .post, "/login", form: form + "&csrf=\(token)", cookies: [SessionCookies.login: token])
            #expect(login.status == .seeOther && login.headers[.location] == "/")
            let line = try #require(login.headers[values: .setCookie].first { $0.hasPrefix(SessionCookies.session + "=") })
            #expect(line.contains("HttpOnly") && line.contains("SameSite=Strict") && !line.contains("Secure"))
            let session = try #require(login.cookie(SessionCookies.session))

            let posted = try await Self.call(client, .post, "/users", form: "username=nobody1&password=secret1", cookies: [SessionCookies.session: session])
            #expect(posted.status == .forbidden && posted.text.contains("请求已过期，请刷新页面后重试"))
            let dashboard = try await Self.call(client, .get, "/", cookies: [SessionCookies.session: session])
            #expect(dashboard.status == .ok && dashboard.text.contains(#"<span id="admin-name">\#(admin)</span>"#))
            #expect(dashboard.text.contains(#"<svg id="messages-chart""#))
        }
    }

    @Test("two failures lock the name: then the right password is refused too, with its own text, and counted nowhere else")
    func lockout() async throws {
        try await Self.withConsole(accountLimit: 2) { client, admin, password, redis in
            for _ in 0..<2 {
                let wrong = try await Self.call(client, .post, "/api/login", json: ["username": .string(admin), "password": "wrong-1"])
                #expect(wrong.text == #"{"msg":"fail","data":"管理员账号或密码错误"}"#)
            }
            let locked = try await Self.call(client, .post, "/api/login", json: ["username": .string(admin), "password": .string(password)])
            #expect(locked.text == #"{"msg":"fail","data":"登录失败次数过多，请稍后再试"}"#)
            #expect(locked.cookie(SessionCookies.session) == nil)
            #expect(try await redis.send("EXISTS", RedisKeys.adminLoginFailures(admin)).integer == 1)
            #expect(try await redis.send("EXISTS", RedisKeys.loginFailures(admin)).integer == 0)
        }
    }

    @Test("the lockout counts an IPv6 operator by the /64, as the bridge counts its clients: two addresses of one prefix share one count, another prefix has its own")
    func lockoutByPrefix() async throws {
        try await Self.withConsole(trustForwardedFor: true) { client, _, _, redis in
            let prefix = "2001:db8:\(String(Int.random(in: 1..<0xffff), radix: 16)):1"
            for (host, name) in [("::5", Self.unique("nobody")), ("::6", Self.unique("nobody")), (":ffff:ffff:ffff:ffff", Self.unique("nobody"))] {
                let wrong = try await Self.call(
                    client, .post, "/api/login", json: ["username": .string(name), "password": "wrong-1"], forwardedFor: prefix + host
                )
                #expect(wrong.text == #"{"msg":"fail","data":"管理员账号或密码错误"}"#)
            }
            let key = RedisKeys.adminLoginFailuresFrom(prefix + "::/64")
            #expect(try await redis.send("HGET", key, "failed").string == "3")
            let other = try await Self.call(
                client, .post, "/api/login", json: ["username": .string(Self.unique("nobody")), "password": "wrong-1"], forwardedFor: "2001:db8:ffff:2::5"
            )
            #expect(other.text == #"{"msg":"fail","data":"管理员账号或密码错误"}"#)
            #expect(try await redis.send("HGET", RedisKeys.adminLoginFailuresFrom("2001:db8:ffff:2::/64"), "failed").string == "1")
            // One key per command: on a cluster each is a slot of its own.
            try await redis.send("DEL", key).throwingOnError()
            try await redis.send("DEL", RedisKeys.adminLoginFailuresFrom("2001:db8:ffff:2::/64")).throwingOnError()
        }
    }

    @Test("a complaint's reply: status and text stored, the status index moved; a reply over its column's limit refused with the limit's text")
    func complaintReply() async throws {
        try await Self.withConsole { client, admin, password, redis in
            let (session, csrf) = try await Self.logIn(client, admin, password)
            let cookies = [SessionCookies.session: session]
            let id = Int(try #require(try await redis.send("INCR", RedisKeys.idCounter("complaint")).integer)) + 1_000_000
            // Reporter 1's complaint: its partition's row and indexes (as complaint_change writes them).
            let partition = testKeys.layout.partition(ofUser: 1)
            try await redis.send(.texts("HSET", [
                testKeys.complaint(id, reporter: 1), "id", String(id), "user_id", "1", "target_id", "2", "target_type", "single", "target_name", "t",
                "reason", "r", "content", "c", "status", "0", "create_time", "2026-12-07 06:00:00", "update_time", "2026-12-07 06:00:00",
                "is_deleted", "0", "_v", "1",
            ])).throwingOnError()
            try await redis.send("ZADD", testKeys.complaints(partition: partition), String(id), String(id)).throwingOnError()
            try await redis.send("ZADD", testKeys.complaints(status: 0, partition: partition), String(id), String(id)).throwingOnError()

            let limit = StoredLimits.Console.adminReply
            let tooLong = String(repeating: "字", count: limit.maximum + 1)
            let refused = try await Self.call(
                client, .post, "/api/complaints/\(id)/reply", json: ["status": 2, "admin_reply": .string(tooLong)], cookies: cookies, csrf: csrf
            )
            #expect(refused.text == #"{"msg":"fail","data":"\#(limit.refusal("admin_reply"))"}"#)
            #expect(try await redis.send("HGET", testKeys.complaint(id, reporter: 1), "status").string == "0")

            let longest = String(repeating: "字", count: limit.maximum)
            let replied = try await Self.call(
                client, .post, "/api/complaints/\(id)/reply", json: ["status": "2", "admin_reply": .string(longest)], cookies: cookies, csrf: csrf
            )
            #expect(replied.data?.objectValue?["status"]?.integerValue == 2)
            #expect(replied.data?.objectValue?["admin_reply"]?.stringValue == longest)
            #expect(try await redis.send("ZSCORE", testKeys.complaints(status: 2, partition: partition), String(id)).integer == Int64(id))
            #expect(try await redis.send("ZSCORE", testKeys.complaints(status: 0, partition: partition), String(id)).isNull)
            let badStatus = try await Self.call(client, .post, "/api/complaints/\(id)/reply", json: ["status": 9], cookies: cookies, csrf: csrf)
            #expect(badStatus.text == #"{"msg":"fail","data":"处理状态不正确"}"#)
        }
    }

    @Test("a dead letter of a stream's shard (the run's layout) replays to that shard, audited; one naming another key is refused and stays")
    func deadLetterReplayToShard() async throws {
        try await Self.withConsole { client, admin, password, redis in
            let (session, csrf) = try await Self.logIn(client, admin, password)
            let cookies = [SessionCookies.session: session]
            let shard = testKeys.stream(StreamName.privateEntities, partition: testKeys.layout.partitions - 1)
            let marker = Self.unique("replay")
            func deadLetter(from stream: String) async throws -> String {
                try #require(try await redis.send(
                    "XADD", StreamName.deadLetters, "*", "stream", stream, "entry", "1-1", "attempts", "5", "error", "e", "consumer", "p1",
                    "field.entity", "console_test", "field.id", marker
                ).string)
            }
            let letter = try await deadLetter(from: shard)
            let replayed = try await Self.call(client, .post, "/api/deadletters/\(letter)/replay", cookies: cookies, csrf: csrf)
            #expect(replayed.message == "ok", "\(replayed.text)")
            #expect(try await redis.send("XRANGE", StreamName.deadLetters, letter, letter).array?.isEmpty == true)
            let copies = (try await redis.send("XREVRANGE", shard, "+", "-", "COUNT", "100").array ?? []).filter {
                $0.array?.last?.fieldValues == ["entity": "console_test", "id": marker]
            }
            #expect(copies.count == 1)
            let audit = try await Self.call(client, .get, "/api/audit?size=100", cookies: cookies)
            let row = (audit.data?.objectValue?["list"]?.arrayValue ?? []).compactMap(\.objectValue).first {
                $0["admin"]?.stringValue == admin && $0["action"]?.stringValue == "deadletter.replay"
            }
            #expect(row?["detail"]?.stringValue?.contains(#""deadletter":"\#(letter)""#) == true, "\(String(describing: row))")

            let elsewhere = try await deadLetter(from: testKeys.user(1))
            let refused = try await Self.call(client, .post, "/api/deadletters/\(elsewhere)/replay", cookies: cookies, csrf: csrf)
            #expect(refused.message == "fail", "\(refused.text)")
            #expect(try await redis.send("XRANGE", StreamName.deadLetters, elsewhere, elsewhere).array?.count == 1)
            try await redis.send("XDEL", StreamName.deadLetters, elsewhere).throwingOnError()
        }
    }

    @Test("behind a proxy (--trust-forwarded-for) the audit records the last X-Forwarded-For address; without the flag the header is ignored")
    func forwardedFor() async throws {
        for trusted in [true, false] {
            try await Self.withConsole(trustForwardedFor: trusted) { client, admin, password, _ in
                let (session, csrf) = try await Self.logIn(client, admin, password)
                let cookies = [SessionCookies.session: session]
                let username = Self.unique("fw")
                let create: JSONValue = ["username": .string(username), "password": "secret1"]
                let created = try await Self.call(
                    client, .post, "/api/users", json: create, cookies: cookies, csrf: csrf, forwardedFor: "203.0.113.9, 198.51.100.7"
                )
                #expect(created.message == "ok")
                let audit = try await Self.call(client, .get, "/api/audit?size=100", cookies: cookies)
                let row = (audit.data?.objectValue?["list"]?.arrayValue ?? []).compactMap(\.objectValue).first {
                    $0["admin"]?.stringValue == admin && $0["action"]?.stringValue == "user.create"
                }
                #expect(row?["address"]?.stringValue == (trusted ? "198.51.100.7" : ""))
            }
        }
    }
}
