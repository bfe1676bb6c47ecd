import Foundation
import Model
import RedisClient
import TestSupport
import Testing

/// docs/operations.md *Rate limits*, on real bridge processes sharing the test Redis: the
/// login lockouts per account and per client address with their back-off and release,
/// registrations and visitor calls per address, and bcrypt's queue refusing when full.
/// Every request of a test comes from 127.0.0.1, so the suite runs serialized and clears
/// that address's counters first (other suites' bridges turn the per-address limits off).
@Suite("Rate limits", .serialized, .offCooperativePool)
struct RateLimitTests {
    static let locked = "登录失败次数过多，请稍后再试"
    static let wrong = "账户或密码错误"
    static let address = "127.0.0.1"

    static func name() -> String {
        "r" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    }

    /// The answer as "200 ok" or "400 <text>".
    static func login(
        _ bridge: BridgeProcess, _ username: String, _ password: String, headers: [(String, String)] = []
    ) throws -> String {
        let reply = try bridge.post("/api/loginChat", ["username": username, "password": password], headers: headers)
        return "\(reply.status) " + (reply.body["msg"] as? String == "ok" ? "ok" : reply.body["data"] as? String ?? "\(reply.body)")
    }

    static func clearAddress(_ redis: RedisClient) async throws {
        for key in [
            RedisKeys.loginFailuresFrom(address), RedisKeys.registrationsFrom(address), RedisKeys.visitorCallsFrom(address),
        ] {
            _ = try await redis.send("DEL", key)
        }
    }

    /// How long the lock of a login state key has left, in ms of Redis' clock.
    static func lockLeft(_ redis: RedisClient, _ key: String) async throws -> Int64 {
        let until = Int64(try await redis.send("HGET", key, "until").string ?? "0") ?? 0
        let time = try await redis.send("TIME").array ?? []
        let now = (Int64(time.first?.string ?? "0") ?? 0) * 1000 + (Int64(time.last?.string ?? "0") ?? 0) / 1000
        return until - now
    }

    @Test("the login lockout per account: the failure that reaches the limit locks it, even the right password is refused with the text; released after the lock; the next lock doubles; a success clears the count", .timeLimit(.minutes(1)))
    func accountLockout() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await Self.clearAddress(redis)
        let bridge = try await BridgeProcess(
            redisURL: try TestEnvironment.redisURL(),
            settings: ["LOGIN_FAILURES_PER_ACCOUNT": "3", "LOGIN_LOCKOUT_SECONDS": "2", "LOGIN_LOCKOUT_MAX_SECONDS": "60"]
        )
        let me = try bridge.register(Self.name())
        let other = try bridge.register(Self.name())
        let key = RedisKeys.loginFailures(me.username)

        // Two failures, then a success: the count starts again, so two more do not lock.
        for _ in 0..<2 { #expect(try Self.login(bridge, me.username, "wrong-1") == "400 \(Self.wrong)") }
        #expect(try Self.login(bridge, me.username, "secret1") == "200 ok")
        #expect(try await redis.send("EXISTS", key).integer == 0)  // nothing left to remember
        for _ in 0..<2 { #expect(try Self.login(bridge, me.username, "wrong-2") == "400 \(Self.wrong)") }

        // The third failure in a row is still answered as wrong, and locks the account.
        #expect(try Self.login(bridge, me.username, "wrong-3") == "400 \(Self.wrong)")
        #expect(try Self.login(bridge, me.username, "secret1") == "400 \(Self.locked)")
        #expect(try Self.login(bridge, me.username, "wrong-4") == "400 \(Self.locked)")
        #expect(try await redis.send("HGET", key, "locks").string == "1")
        let first = try await Self.lockLeft(redis, key)
        #expect(first > 0 && first <= 2000, "\(first) ms left")
        // another account is not affected
        #expect(try Self.login(bridge, other.username, "secret1") == "200 ok")
        #expect(QuotaTests.metric(bridge, #"chat_login_lockouts_total{subject="account"} 1"#))
        #expect(QuotaTests.metric(bridge, #"chat_rate_limit_refusals_total{limit="login_account"} 2"#))

        // Released after the lock: three more failures lock it again, twice as long.
        try await eventually(within: 10) { try await Self.lockLeft(redis, key) < 0 }
        for _ in 0..<3 { #expect(try Self.login(bridge, me.username, "wrong-5") == "400 \(Self.wrong)") }
        #expect(try Self.login(bridge, me.username, "secret1") == "400 \(Self.locked)")
        #expect(try await redis.send("HGET", key, "locks").string == "2")
        let second = try await Self.lockLeft(redis, key)
        #expect(second > 2000 && second <= 4000, "\(second) ms left")

        // Once released, the right password logs in and clears the account's state.
        try await eventually(within: 10) { try Self.login(bridge, me.username, "secret1") == "200 ok" }
        #expect(try await redis.send("EXISTS", key).integer == 0)
        #expect(QuotaTests.metric(bridge, #"chat_login_lockouts_total{subject="account"} 2"#))
    }

    @Test("the login lockout per address: failures on several accounts (existing or not) lock the address for every account, on every process; a success does not clear it; X-Forwarded-For only counts when trusted", .timeLimit(.minutes(1)))
    func addressLockout() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await Self.clearAddress(redis)
        let limits = ["LOGIN_FAILURES_PER_IP": "4", "LOGIN_LOCKOUT_SECONDS": "1", "LOGIN_LOCKOUT_MAX_SECONDS": "60"]
        let direct = try await BridgeProcess(redisURL: try TestEnvironment.redisURL(), settings: limits)
        let proxied = try await BridgeProcess(
            redisURL: try TestEnvironment.redisURL(), settings: limits.merging(["TRUST_FORWARDED_FOR": "true"]) { $1 }
        )
        let accounts = try (0..<3).map { _ in try direct.register(Self.name()) }

        #expect(try Self.login(direct, accounts[0].username, "wrong-1") == "400 \(Self.wrong)")
        #expect(try Self.login(direct, accounts[1].username, "wrong-1") == "400 \(Self.wrong)")
        #expect(try Self.login(direct, accounts[2].username, "secret1") == "200 ok")  // does not clear the address
        #expect(try Self.login(direct, Self.name(), "wrong-1") == "400 账号不存在或者被禁用")  // counts too
        // The fourth failure: answered, and the address is locked for every account.
        #expect(try Self.login(direct, accounts[2].username, "wrong-1") == "400 \(Self.wrong)")
        #expect(try Self.login(direct, accounts[2].username, "secret1") == "400 \(Self.locked)")
        // A header is not believed without --trust-forwarded-for.
        #expect(try Self.login(direct, accounts[1].username, "secret1", headers: [("X-Forwarded-For", "198.51.100.7")]) == "400 \(Self.locked)")
        // Behind a trusted proxy the last address counts: the same lock on the other
        // process; another address is free.
        #expect(try Self.login(proxied, accounts[1].username, "secret1", headers: [("X-Forwarded-For", "198.51.100.7, 127.0.0.1")]) == "400 \(Self.locked)")
        #expect(try Self.login(proxied, accounts[1].username, "secret1", headers: [("X-Forwarded-For", "127.0.0.1, 198.51.100.7")]) == "200 ok")
        #expect(QuotaTests.metric(direct, #"chat_login_lockouts_total{subject="ip"} 1"#))
        #expect(QuotaTests.metric(direct, #"chat_rate_limit_refusals_total{limit="login_ip"} 2"#))
        #expect(QuotaTests.metric(proxied, #"chat_rate_limit_refusals_total{limit="login_ip"} 1"#))
        _ = try await redis.send("DEL", RedisKeys.loginFailuresFrom("198.51.100.7"))

        // Released after the lock.
        try await eventually(within: 10) { try Self.login(direct, accounts[0].username, "secret1") == "200 ok" }
    }

    @Test("registrations per address: the one beyond the hour's limit is refused and creates nothing", .timeLimit(.minutes(1)))
    func registrations() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await Self.clearAddress(redis)
        let bridge = try await BridgeProcess(redisURL: try TestEnvironment.redisURL(), settings: ["REGISTRATIONS_PER_IP": "3"])
        let taken = try bridge.register(Self.name())
        // a refused registration (the name is taken) counts too: it cost a hash
        let again = try bridge.post("/api/regChat", ["username": taken.username, "password": "secret1"])
        #expect(again.body["data"] as? String == "该账号已存在，请换一个账号注册")
        _ = try bridge.register(Self.name())
        let name = Self.name()
        let refused = try bridge.post("/api/regChat", ["username": name, "password": "secret1"])
        #expect(refused.status == 400 && refused.body["msg"] as? String == "fail")
        #expect(refused.body["data"] as? String == "注册过于频繁，请稍后再试", "\(refused)")
        #expect(try await redis.send("EXISTS", testKeys.userByName(name)).integer == 0)
        let ttl = try await redis.send("TTL", RedisKeys.registrationsFrom(Self.address)).integer ?? 0
        #expect((3500...3600).contains(ttl))
        #expect(QuotaTests.metric(bridge, #"chat_rate_limit_refusals_total{limit="registrations_ip"} 1"#))
        // logins are not registrations
        #expect(try Self.login(bridge, taken.username, "secret1") == "200 ok")
        try await Self.clearAddress(redis)
    }

    @Test("visitor calls per address: new devices beyond the hour's limit are refused with the per-device text, no account bound", .timeLimit(.minutes(1)))
    func visitorCalls() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await Self.clearAddress(redis)
        let bridge = try await BridgeProcess(redisURL: try TestEnvironment.redisURL(), settings: ["VISITOR_CALLS_PER_IP": "3"])
        func visitorRegister(_ device: String) throws -> (status: Int, body: [String: Any]) {
            let timestamp = VisitorTests.now()
            return try bridge.post(
                "/api/visitorRegister", ["deviceId": device, "timestamp": timestamp],
                headers: [("X-Security-Sign", VisitorTests.sign(deviceID: device, timestamp: timestamp))]
            )
        }
        for _ in 0..<3 {
            let reply = try visitorRegister(VisitorTests.deviceID())
            #expect(reply.status == 200 && reply.body["msg"] as? String == "ok", "\(reply)")
        }
        let device = VisitorTests.deviceID()
        let refused = try visitorRegister(device)
        #expect(refused.status == 400 && refused.body["data"] as? String == "请求过于频繁，请1个小时后再试", "\(refused)")
        #expect(try await redis.send("EXISTS", testKeys.userByDevice(device)).integer == 0)
        #expect(QuotaTests.metric(bridge, #"chat_rate_limit_refusals_total{limit="visitor_ip"} 1"#))
        try await Self.clearAddress(redis)
    }

    @Test("bcrypt's queue: concurrent logins beyond one running and one waiting are refused at once with the text, counted", .timeLimit(.minutes(1)))
    func bcryptQueue() async throws {
        // A slow hash (cost 13, about half a second here) so that the logins overlap.
        let bridge = try await BridgeProcess(
            redisURL: try TestEnvironment.redisURL(),
            settings: ["BCRYPT_COST": "13", "BCRYPT_CONCURRENCY": "1", "BCRYPT_QUEUE": "1", "LOGIN_FAILURES_PER_ACCOUNT": "0"]
        )
        let me = try bridge.register(Self.name())
        let answers = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask { try Self.login(bridge, me.username, "secret1") }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let refused = answers.filter { $0 == "400 服务器繁忙，请稍后再试" }.count
        let accepted = answers.filter { $0 == "200 ok" }.count
        // The first runs, the second runs or waits; the others came while both were taken.
        #expect(accepted >= 2 && refused >= 1 && accepted + refused == 8, "\(answers)")
        #expect(try bridge.metric("chat_bcrypt_refused_total") == Double(refused))
        #expect(try bridge.metric("chat_bcrypt_waiting") == 0)
    }
}
