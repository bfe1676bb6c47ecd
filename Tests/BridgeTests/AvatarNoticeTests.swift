import Foundation
import Model
import RedisClient
import TestSupport
import Testing

/// docs/api.md *Avatar notice*: after `updateUserinfo` changed the avatar, the next
/// connection of the user (within the key's 60 s) gets the `redirect-userInfoSet` notice
/// through the usual delivery; any other value of `user:modify:{id}` is deleted on connect.
@Suite("Avatar notice on connect", .offCooperativePool)
struct AvatarNoticeTests {
    typealias Account = (id: Int, token: String, username: String)

    static let avatar = "https://cdn.example.com/avatars/new-face.png?v=2"
    /// `encodeURIComponent("账号信息设置")`, `encodeURIComponent("/pages/xiaoxi/xiaoxi")`.
    static let redirectURL = "/pages/setpageInfo/setpageInfo?action=userinfoSet&title=%E8%B4%A6%E5%8F%B7%E4%BF%A1%E6%81%AF%E8%AE%BE%E7%BD%AE"
        + "&redirectUrl=%2Fpages%2Fxiaoxi%2Fxiaoxi&redirectType=switchTab"
    /// A user without friends or groups gets seven guidance messages.
    static let guidanceCount = 7

    static func changeAvatar(_ bridge: BridgeProcess, _ user: Account) throws {
        let answer = try bridge.post("/api/chat/updateUserinfo", ["fieldname": "avatar", "fieldValue": avatar], token: user.token)
        #expect(answer.status == 200 && answer.body["data"] as? String == "头像更新成功", "\(answer)")
    }

    /// Checks every field of the notice; returns its id.
    @discardableResult
    static func expectNotice(_ message: [String: Any], to user: Account, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let from = "redirect-userInfoSet-\(user.id)"
        #expect(Set(message.keys) == [
            "id", "from_id", "from_name", "from_avatar", "to_id", "to_name", "to_avatar", "chatType", "type", "data",
            "options", "create_time", "isremove", "redirect", "group", "msgidKey",
        ], sourceLocation: sourceLocation)
        #expect(message["from_id"] as? String == from && message["msgidKey"] as? String == from, sourceLocation: sourceLocation)
        #expect(message["from_name"] as? String == "头像更换成功", sourceLocation: sourceLocation)
        #expect(message["from_avatar"] as? String == avatar && message["to_avatar"] as? String == avatar, sourceLocation: sourceLocation)
        #expect(message["to_id"] as? Int == user.id && message["to_name"] as? String == user.username, sourceLocation: sourceLocation)
        #expect(message["chatType"] as? String == "single" && message["type"] as? String == "text", sourceLocation: sourceLocation)
        let data = message["data"] as? [String: Any]
        #expect(data?.count == 3 && data?["data"] as? String == "不满意你的头像可以继续更换", sourceLocation: sourceLocation)
        #expect(data?["dataType"] as? Bool == false && data?["otherData"] is NSNull, sourceLocation: sourceLocation)
        let redirect = message["redirect"] as? [String: Any]
        #expect(redirect?.count == 3 && redirect?["url"] as? String == redirectURL, sourceLocation: sourceLocation)
        #expect(redirect?["type"] as? String == "navigateTo" && redirect?["doaction"] as? String == "avatar", sourceLocation: sourceLocation)
        #expect((message["options"] as? [String: Any])?.isEmpty == true, sourceLocation: sourceLocation)
        #expect((message["group"] as? [String: Any])?.isEmpty == true, sourceLocation: sourceLocation)
        #expect(message["isremove"] as? Int == 0, sourceLocation: sourceLocation)
        let now = Date().timeIntervalSince1970 * 1000
        #expect(abs((message["create_time"] as? Double ?? 0) - now) < 10_000, sourceLocation: sourceLocation)
        let id = try #require(message["id"] as? String, sourceLocation: sourceLocation)
        #expect(id.wholeMatch(of: /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/) != nil, sourceLocation: sourceLocation)
        return id
    }

    /// The message object of a `singleChat` frame.
    static func message(_ text: String) throws -> [String: Any] {
        let frame = GatewayTests.object(text)
        #expect(frame["type"] as? String == "singleChat", "\(text)")
        return try #require(frame["data"] as? [String: Any])
    }

    /// Reads the welcome and then `count` singleChat frames: their `from_name`s.
    static func welcomeAndGuidance(_ socket: WebSocketTestClient, count: Int = guidanceCount) async throws -> [String] {
        #expect(GatewayTests.object(try await socket.nextText())["data"] as? String == "欢迎您访问我们的系统！")
        var names: [String] = []
        for _ in 0..<count { names.append(try message(try await socket.nextText())["from_name"] as? String ?? "") }
        return names
    }

    @Test("a reconnect while the first socket is open: the notice on the second socket, after the welcome and before the guidance; the key stays", .timeLimit(.minutes(2)))
    func secondSocket() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let bridge = try await BridgeProcess(redisURL: try TestEnvironment.redisURL())
        let user = try bridge.register()
        let first = try await bridge.connect(token: user.token)
        #expect(try await Self.welcomeAndGuidance(first).first == "头像设置")

        try Self.changeAvatar(bridge, user)
        #expect(try await redis.send("GET", testKeys.userModified(user.id)).string == "avatar")
        let second = try await bridge.connect(token: user.token)
        #expect(GatewayTests.object(try await second.nextText())["data"] as? String == "欢迎您访问我们的系统！")
        try Self.expectNotice(try Self.message(try await second.nextText()), to: user)
        let guidance = try Self.message(try await second.nextText())
        #expect(guidance["from_name"] as? String == "头像设置" && guidance["from_avatar"] as? String == Self.avatar)
        for _ in 1..<Self.guidanceCount { _ = try await second.nextText() }
        #expect(await second.texts(for: 0.3).isEmpty)
        // Not on the first socket (the second is the target), not queued.
        #expect(await first.texts(for: 0.1).isEmpty)
        #expect(try await redis.send("LLEN", testKeys.offlineQueue(user.id)).integer == 0)
        // Not deleted after the notice: it expires with the 60 s updateUserinfo gave it.
        #expect(try await redis.send("GET", testKeys.userModified(user.id)).string == "avatar")
        #expect(try await redis.send("TTL", testKeys.userModified(user.id)).integer.map { (1...60).contains($0) } == true)
        #expect(try bridge.metric("chat_ws_avatar_notices_total") == 1)
        await first.close()
        await second.close()
    }

    @Test("another value of user:modify is deleted on connect, without a notice; no key, no notice", .timeLimit(.minutes(2)))
    func otherValues() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let bridge = try await BridgeProcess(redisURL: try TestEnvironment.redisURL())
        let user = try bridge.register()

        // No key: the welcome, then the guidance only.
        #expect(try await redis.send("EXISTS", testKeys.userModified(user.id)).integer == 0)
        let plain = try await bridge.connect(token: user.token)
        #expect(try await Self.welcomeAndGuidance(plain) == ["头像设置", "聊天消息条数限制", "我的二维码", "搜索加好友", "加我为好友时是否需要我验证", "修改密码", "问答设置"])
        #expect(await plain.texts(for: 0.3).isEmpty)
        await plain.close()

        // A nickname change (what updateUserinfo writes), and the older server's "1".
        let nickname = try bridge.post("/api/chat/updateUserinfo", ["fieldname": "nickname", "fieldValue": "新昵称"], token: user.token)
        #expect(nickname.status == 200)
        for value in ["nickname", "1"] {
            if value != "nickname" { _ = try await redis.send("SET", testKeys.userModified(user.id), value, "EX", 60) }
            #expect(try await redis.send("GET", testKeys.userModified(user.id)).string == value)
            let socket = try await bridge.connect(token: user.token)
            #expect(try await Self.welcomeAndGuidance(socket).first == "头像设置")
            #expect(await socket.texts(for: 0.3).isEmpty)
            #expect(try await redis.send("EXISTS", testKeys.userModified(user.id)).integer == 0, "\(value)")
            await socket.close()
        }
        #expect(try await redis.send("LLEN", testKeys.offlineQueue(user.id)).integer == 0)
        #expect(try bridge.metric("chat_ws_avatar_notices_total") == 0)
    }

    @Test("the connection gone before the notice is pushed: the notice waits in the offline queue and comes first on the next connection", .timeLimit(.minutes(2)))
    func offlineQueue() async throws {
        // A Redis of its own: the test stops it (SIGSTOP) while a socket connects.
        let server = try RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration.forTests(url: server.url))
        defer { Task { await redis.shutdown() } }
        let bridge = try await BridgeProcess(redisURL: server.url)
        let user = try bridge.register()
        try Self.changeAvatar(bridge, user)

        // Upgraded (the upgrade needs no Redis), then closed while its registration waits
        // for Redis: the connection is registered after it has closed, and everything
        // after the registration finds it gone.
        server.pause()
        let gone = try await bridge.connect(token: user.token)
        await gone.close()
        try await Task.sleep(for: .milliseconds(300))
        server.resume()
        try await eventually(within: 5) {
            let queued = try await redis.send("LLEN", testKeys.offlineQueue(user.id)).integer
            let online = try await redis.send("EXISTS", testKeys.online(user.id)).integer
            return queued == 1 && online == 0
        }
        let queued = try #require(try await OfflineQueueTests.messages(redis, user.id).first ?? nil)
        let queuedID = try Self.expectNotice(GatewayTests.object(queued), to: user)

        // The next connection: the queued notice first (the flush precedes the welcome),
        // then, the key still being `avatar`, a fresh one after the welcome.
        let next = try await bridge.connect(token: user.token)
        #expect(try Self.expectNotice(try Self.message(try await next.nextText()), to: user) == queuedID)
        #expect(GatewayTests.object(try await next.nextText())["data"] as? String == "欢迎您访问我们的系统！")
        #expect(try Self.expectNotice(try Self.message(try await next.nextText()), to: user) != queuedID)
        #expect(try Self.message(try await next.nextText())["from_name"] as? String == "头像设置")
        try await eventually(within: 5) { try await redis.send("LLEN", testKeys.offlineQueue(user.id)).integer == 0 }
        await next.close()
    }
}
