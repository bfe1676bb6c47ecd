import Foundation
import Logging
import LuaScripts
import Model
import NIOCore
import NIOWebSocket
import RedisClient
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// `/ws` against real bridge processes (docs/api.md): refusals, welcome and guidance,
/// frames, abuse, liveness and shutdown.
@Suite("The WebSocket gateway", .serialized, .offCooperativePool)
struct GatewayTests {
    static func object(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    static func refusal(_ text: String) -> [WebSocketTestClient.Event] {
        [.text(#"{"msg":"fail","data":"\#(text)"}"#), .closeFrame(code: 1000), .disconnected]
    }

    @Test("refused connections get the reason, then a close frame", .timeLimit(.minutes(1)))
    func refusals() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let bridge = try await BridgeProcess(redisURL: try TestEnvironment.redisURL())

        #expect(try await bridge.connect(token: nil).eventsUntilEnd() == Self.refusal("缺少 token 参数"))
        #expect(try await bridge.connect(token: "").eventsUntilEnd() == Self.refusal("缺少 token 参数"))
        #expect(try await bridge.connect(token: "not.a.jwt").eventsUntilEnd() == Self.refusal("Token 不合法"))

        // Superseded by a newer login, and logged out.
        let user = try bridge.register()
        let second = try bridge.login(user.username)
        #expect(try await bridge.connect(token: user.token).eventsUntilEnd() == Self.refusal("Token 不合法"))
        #expect(try bridge.post("/api/chat/logout", token: second.token).status == 200)
        #expect(try await bridge.connect(token: second.token).eventsUntilEnd() == Self.refusal("Token 不合法"))

        // Disabled by an operator, then gone.
        let other = try bridge.register()
        _ = try await redis.send("HSET", testKeys.user(other.id), "status", "0")
        #expect(try await bridge.connect(token: other.token).eventsUntilEnd() == Self.refusal("你已被管理员禁用"))
        #expect(try bridge.post("/api/chat/chatGetmessageOffLine", token: other.token).body["data"] as? String == ChatAuthMiddleware.unavailable)
        _ = try await redis.send("DEL", testKeys.user(other.id))
        #expect(try await bridge.connect(token: other.token).eventsUntilEnd() == Self.refusal("用户不存在"))

        // None of them became a target.
        for id in [user.id, other.id] {
            #expect(try await redis.send("EXISTS", testKeys.online(id)).integer == 0)
        }
    }

    @Test("an upgrade asked for on another path is answered 404, not upgraded", .timeLimit(.minutes(1)))
    func upgradeElsewhere() async throws {
        let bridge = try await BridgeProcess(redisURL: try TestEnvironment.redisURL())
        let headers = [
            ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
        ]
        #expect(HTTPProbe.request(port: bridge.port, method: "GET", path: "/other", headers: headers)?.status == 404)
        #expect(HTTPProbe.request(port: bridge.port, method: "GET", path: "/healthz", headers: headers)?.status == 404)
        #expect(HTTPProbe.get(port: bridge.port, path: "/healthz")?.status == 200)
        await #expect(throws: WebSocketTestClient.Timeout.self) {
            _ = try await WebSocketTestClient.connect(port: bridge.port, path: "/wss")
        }
    }

    @Test("a user gets the welcome, then the guidance for users, in order", .timeLimit(.minutes(1)))
    func welcomeAndGuidance() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let bridge = try await BridgeProcess(redisURL: try TestEnvironment.redisURL())
        let user = try bridge.register()

        let socket = try await bridge.connect(token: user.token)
        let welcome = Self.object(try await socket.nextText())
        #expect(welcome["type"] as? String == "system")
        #expect(welcome["data"] as? String == "欢迎您访问我们的系统！")
        let now = Date().timeIntervalSince1970 * 1000
        #expect(abs((welcome["timestamp"] as? Double ?? 0) - now) < 10_000)

        var keys: [String] = []
        for _ in 0..<7 {
            let frame = Self.object(try await socket.nextText())
            #expect(frame["type"] as? String == "singleChat")
            let message = try #require(frame["data"] as? [String: Any])
            let from = try #require(message["from_id"] as? String)
            #expect(message["msgidKey"] as? String == from)
            #expect(message["chatType"] as? String == "single" && message["type"] as? String == "text")
            #expect(message["to_id"] as? Int == user.id && message["to_name"] as? String == user.username)
            #expect((message["redirect"] as? [String: Any])?["type"] as? String == "navigateTo")
            let data = try #require(message["data"] as? [String: Any])
            #expect(data["dataType"] as? Bool == false && data["otherData"] is NSNull)
            keys.append(String(from.dropFirst("redirect-".count).dropLast("-\(user.id)".count)))
            if from.hasPrefix("redirect-myQrcode") {
                let url = try #require((message["redirect"] as? [String: Any])?["url"] as? String)
                #expect(url == "/pages/setpageInfo/setpageInfo?action=groupQrcode&title=%E6%88%91%E7%9A%84%E4%BA%8C%E7%BB%B4%E7%A0%81&id=\(user.id)&name=\(user.username)&avatar=\(URIComponent.encode(BridgeSettings.defaultUserAvatar))&chatType=single")
            }
            if from.hasPrefix("redirect-whoCanChatMe") {
                #expect(message["from_name"] as? String == "聊天消息条数限制")
                #expect(data["data"] as? String == "谁可以和我聊天，可向我发几条消息")
            }
        }
        #expect(keys == ["userInfoSet", "whoCanChatMe", "myQrcode", "search", "applyAddMeFriendSet", "setPassword", "AskAndAnswerSet"])
        #expect(await socket.texts(for: 0.3).isEmpty)
        await socket.close()

        // With an active friend and an active group, the two conditional ones lead.
        _ = try await redis.send("HSET", testKeys.friends(user.id), "999", #"{"id":1,"user_id":\#(user.id),"friend_id":999,"status":1,"isblack":0}"#)
        _ = try await redis.send("ZADD", testKeys.groupsOfUser(user.id), 0, "424242")
        _ = try await redis.send("HSET", testKeys.group(424242), "status", "1")
        // (a tagged layout reads the user's active groups, kept by the group scripts in the
        // user's partition, never a group's key)
        if testKeys.layout.isTagged { _ = try await redis.send("ZADD", testKeys.activeGroupsOfUser(user.id), 424242, "424242") }
        let again = try await bridge.connect(token: user.token)
        _ = try await again.nextText()
        var first: [String] = []
        for _ in 0..<9 {
            let message = Self.object(try await again.nextText())["data"] as? [String: Any]
            first.append(message?["from_name"] as? String ?? "")
        }
        #expect(Array(first.prefix(2)) == ["我的群聊", "我的通讯录"])
        await again.close()
    }

    @Test("a visitor gets the groupList (when in a group), whoCanChatMe and visitorLogin guidance", .timeLimit(.minutes(1)))
    func visitorGuidance() async throws {
        let bridge = try await BridgeProcess(redisURL: try TestEnvironment.redisURL())
        let device = VisitorTests.deviceID()
        let timestamp = VisitorTests.now()
        let response = try bridge.post(
            "/api/visitorRegister", ["deviceId": device, "timestamp": timestamp],
            headers: [("X-Security-Sign", VisitorTests.sign(deviceID: device, timestamp: timestamp))]
        )
        let token = try #require((response.body["data"] as? [String: Any])?["token"] as? String, "\(response)")
        let socket = try await bridge.connect(token: token)
        #expect(Self.object(try await socket.nextText())["type"] as? String == "system")
        var labels: [String] = []
        for _ in 0..<2 {
            labels.append((Self.object(try await socket.nextText())["data"] as? [String: Any])?["from_name"] as? String ?? "")
        }
        #expect(labels == ["聊天消息条数限制", "登录提示"])
        #expect(await socket.texts(for: 0.3).isEmpty)
    }

    @Test("client pings get pongs; pongs and text that is not JSON are ignored", .timeLimit(.minutes(1)))
    func clientFrames() async throws {
        let bridge = try await BridgeProcess(redisURL: try TestEnvironment.redisURL())
        let user = try bridge.register()
        let socket = try await bridge.connect(token: user.token)
        _ = await socket.texts(for: 0.5)  // welcome and guidance

        for ping in ["ping", #"{"type":"ping"}"#, #"{"type":"ping","token":"\#(user.token)"}"#] {
            try await socket.send(text: ping)
            let pong = Self.object(try await socket.nextText())
            #expect(pong.keys.sorted() == ["timestamp", "type"] && pong["type"] as? String == "pong", "\(ping)")
        }
        for ignored in [#"{"type":"pong"}"#, "undefined", "{", "[1,2]", ""] {
            try await socket.send(text: ignored)
        }
        var binary = socket.channel.allocator.buffer(capacity: 4)
        binary.writeString("ping")
        try await socket.send(opcode: .binary, bytes: binary)
        #expect(Self.object(try await socket.nextText())["type"] as? String == "pong")
        #expect(await socket.texts(for: 0.3).isEmpty)
    }

    @Test("abuse closes: an oversized message with 1009, invalid UTF-8 with 1007", .timeLimit(.minutes(1)))
    func abuse() async throws {
        let bridge = try await BridgeProcess(redisURL: try TestEnvironment.redisURL(), settings: ["WS_MAX_FRAME_BYTES": "1024"])
        let user = try bridge.register()

        // Exactly the limit is fine.
        let fits = try await bridge.connect(token: user.token)
        _ = await fits.texts(for: 0.3)  // welcome and guidance
        try await fits.send(text: String(repeating: "x", count: 1024))
        try await fits.send(text: "ping")
        #expect(try await fits.nextText().contains("pong"))

        let big = try await bridge.connect(token: user.token)
        try await big.send(text: String(repeating: "x", count: 1025))
        #expect(try await big.eventsUntilEnd().suffix(2) == [.closeFrame(code: 1009), .disconnected])

        // Fragments each under the limit, together over it.
        let fragmented = try await bridge.connect(token: user.token)
        var part = fragmented.channel.allocator.buffer(capacity: 600)
        part.writeString(String(repeating: "y", count: 600))
        try await fragmented.send(opcode: .text, bytes: part, fin: false)
        try await fragmented.send(opcode: .continuation, bytes: part, fin: true)
        #expect(try await fragmented.eventsUntilEnd().suffix(2) == [.closeFrame(code: 1009), .disconnected])

        let invalid = try await bridge.connect(token: user.token)
        var bytes = invalid.channel.allocator.buffer(capacity: 4)
        bytes.writeBytes([0x7B, 0xFF, 0xFE, 0x7D])
        try await invalid.send(opcode: .text, bytes: bytes)
        #expect(try await invalid.eventsUntilEnd().suffix(2) == [.closeFrame(code: 1007), .disconnected])
    }

    @Test("pings every interval; a dead peer is dropped without a close frame", .timeLimit(.minutes(1)))
    func liveness() async throws {
        let bridge = try await BridgeProcess(redisURL: try TestEnvironment.redisURL(), settings: ["WS_PING_SECONDS": "1"])
        let user = try bridge.register()

        let alive = try await bridge.connect(token: user.token)
        let dead = try await bridge.connect(token: user.token, answersPings: false)
        var appPings = 0
        var protocolPings = 0
        let start = Date()
        var deadEvents: [WebSocketTestClient.Event] = []
        while Date().timeIntervalSince(start) < 4.5 {
            if let event = try? await alive.next(within: 0.05) {
                if event == .text(ServerFrame.ping) { appPings += 1 }
                if event == .ping { protocolPings += 1 }
                #expect(event != .disconnected)
            }
            while let event = try? await dead.next(within: 0.01) { deadEvents.append(event) }
        }
        #expect(appPings >= 3 && protocolPings >= 3)
        #expect(deadEvents.last == .disconnected)
        #expect(!deadEvents.contains { if case .closeFrame = $0 { true } else { false } })
        await alive.close()
    }

    @Test("SIGTERM drops every socket without a close frame and releases its target", .timeLimit(.minutes(1)))
    func gracefulShutdown() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let bridge = try await BridgeProcess(redisURL: try TestEnvironment.redisURL())
        let user = try bridge.register()
        let socket = try await bridge.connect(token: user.token)
        _ = try await socket.nextText()
        #expect(try await redis.send("GET", testKeys.online(user.id)).string?.hasPrefix(bridge.node + ":") == true)

        let partitions = 0..<testKeys.layout.partitions
        for partition in partitions { _ = try await redis.send("HSET", testKeys.nodeDeliveries(partition: partition), bridge.node, 7) }
        bridge.signal(SIGTERM)
        let events = try await socket.eventsUntilEnd()
        #expect(events.last == .disconnected)
        #expect(!events.contains { if case .closeFrame = $0 { true } else { false } }, "\(events)")
        #expect(bridge.waitForExit(timeout: 10) == 0)
        #expect(try await redis.send("EXISTS", testKeys.online(user.id)).integer == 0)
        // it left every partition
        for partition in partitions {
            #expect(try await redis.send("ZSCORE", testKeys.nodes(partition: partition), bridge.node).isNull, "partition \(partition)")
            #expect(try await redis.send("HGET", testKeys.nodeDeliveries(partition: partition), bridge.node).isNull, "partition \(partition)")
        }
    }
}
