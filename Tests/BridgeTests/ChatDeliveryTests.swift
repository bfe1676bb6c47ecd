import Foundation
import Model
import RedisClient
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// Single chat end to end, with real bridge processes: what recipients' sockets get
/// (offline then online, across processes, exactly once and in order, never an echo),
/// and the WebSocket send frame (acknowledgements, idempotence on the client id).
@Suite("Single chat across bridge processes", .serialized, .offCooperativePool)
struct ChatDeliveryTests {
    typealias Account = (id: Int, token: String, username: String)

    static let unlimited = #"{"chatset":{"visitor":{"sendCount":2,"needFollow":false},"user":{"sendCount":2,"needFollow":false}}}"#

    /// A user whose chatset lets anyone write any number of messages.
    static func openUser(_ bridge: BridgeProcess) throws -> Account {
        let user = try bridge.register()
        let response = try bridge.post("/api/chat/userset", ["userset": unlimited], token: user.token)
        #expect(response.status == 200, "\(response)")
        return user
    }

    static func send(_ bridge: BridgeProcess, _ from: Account, to: Int, _ text: String) throws -> [String: Any] {
        let response = try bridge.post(
            "/api/chat/socket/sendmessage", ["sendto_id": to, "chatType": "single", "type": "text", "data": text], token: from.token
        )
        #expect(response.status == 200, "\(response)")
        return response.body["data"] as? [String: Any] ?? [:]
    }

    /// The `data` of every delivered message from `sender` among the frames.
    static func texts(from sender: Int, in frames: [String]) -> [String] {
        frames.compactMap { text in
            let frame = GatewayTests.object(text)
            guard frame["type"] as? String == "singleChat", let message = frame["data"] as? [String: Any],
                  message["from_id"] as? Int == sender else { return nil }
            return message["data"] as? String
        }
    }

    /// Frames until `count` messages from `sender` arrived (or `seconds` passed).
    static func collect(_ socket: WebSocketTestClient, from sender: Int, count: Int, within seconds: Double = 10) async -> [String] {
        var frames: [String] = []
        let deadline = Date().addingTimeInterval(seconds)
        while texts(from: sender, in: frames).count < count, deadline.timeIntervalSinceNow > 0 {
            guard let text = try? await socket.nextText(within: deadline.timeIntervalSinceNow) else { break }
            frames.append(text)
        }
        return frames
    }

    @Test("offline, then connecting while messages keep coming, then online on another process: each once, in order; no echo", .timeLimit(.minutes(1)))
    func offlineThenOnline() async throws {
        let (a, b) = try await (DeliveryTests.bridge(), DeliveryTests.bridge())
        let (me, you) = try (Self.openUser(a), Self.openUser(b))
        let (mine, _) = try await DeliveryTests.connected(a, me.token)

        for index in 0..<30 { _ = try Self.send(index.isMultiple(of: 2) ? a : b, me, to: you.id, "m\(index)") }
        #expect(try await TestBridge.sharedRedisLength(testKeys.offlineQueue(you.id)) == 30)

        // messages keep being sent while the recipient connects on B
        let sending = Task.detached {
            for index in 30..<130 { _ = try Self.send(index.isMultiple(of: 2) ? a : b, me, to: you.id, "m\(index)") }
        }
        let yours = try await b.connect(token: you.token)
        try await sending.value
        let frames = await Self.collect(yours, from: me.id, count: 130)
        #expect(Self.texts(from: me.id, in: frames) == (0..<130).map { "m\($0)" })

        // live, through process A to the connection on B
        for index in 130..<150 { _ = try Self.send(a, me, to: you.id, "m\(index)") }
        let live = await Self.collect(yours, from: me.id, count: 20)
        #expect(Self.texts(from: me.id, in: live) == (130..<150).map { "m\($0)" })
        #expect(Self.texts(from: me.id, in: await yours.texts(for: 0.3)).isEmpty)

        // the sender's own socket never saw any of its messages
        let echoes = Self.texts(from: me.id, in: await mine.texts(for: 0.3))
        #expect(echoes.isEmpty)
        #expect(try await TestBridge.sharedRedisLength(testKeys.offlineQueue(you.id)) == 0)
        await yours.close()
        await mine.close()
    }

    @Test("a message taken by the recipient's process waits for one routed to it before, still on its way", .timeLimit(.minutes(1)))
    func localPushWaitsForEarlierRoutedOne() async throws {
        let b = try await DeliveryTests.bridge()
        let (me, you) = try (Self.openUser(b), Self.openUser(b))
        let (yours, _) = try await DeliveryTests.connected(b, you.token)
        _ = await yours.texts(for: 0.2)
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let target = try #require(DeliveryTarget(try await redis.send("GET", testKeys.online(you.id)).string ?? ""))
        #expect(target.node == b.node)

        // Another process's script numbered a delivery to B (as if its stream entry
        // were still on its way); then B takes the next message itself.
        // (numbered in the recipient's partition, and read from B's stream of it)
        let partition = testKeys.layout.partition(ofUser: you.id)
        let inFlight = try #require(try await redis.send("HINCRBY", testKeys.nodeDeliveries(partition: partition), b.node, 1).integer)
        _ = try Self.send(b, me, to: you.id, "second")
        #expect(Self.texts(from: me.id, in: await yours.texts(for: 0.3)).isEmpty, "pushed before the earlier delivery")
        let first = #"{"id":"\#(UUID().uuidString.lowercased())","from_id":\#(me.id),"to_id":\#(you.id),"chatType":"single","type":"text","data":"first"}"#
        let envelope = NodeEnvelope.deliver(
            to: [ConnectionAddress(user: you.id, connection: target.connection)], message: Array(first.utf8), sequence: UInt64(inFlight)
        )
        #expect(try await redis.send("XADD", testKeys.nodeStream(b.node, partition: partition), "*", "e", envelope.encoded()).string != nil)
        #expect(Self.texts(from: me.id, in: await Self.collect(yours, from: me.id, count: 2)) == ["first", "second"])
        #expect(try b.metric("chat_delivery_order_held_total") == 1)
        #expect(try b.metric("chat_delivery_order_timeouts_total") == 0)

        // A number that never arrives holds a push for a moment only.
        _ = try await redis.send("HINCRBY", testKeys.nodeDeliveries(partition: partition), b.node, 1)
        _ = try Self.send(b, me, to: you.id, "third")
        #expect(Self.texts(from: me.id, in: await Self.collect(yours, from: me.id, count: 1, within: 5)) == ["third"])
        #expect(try b.metric("chat_delivery_order_timeouts_total") == 1)
        // ...and then counts as handled: the next push does not wait for it again.
        _ = try Self.send(b, me, to: you.id, "fourth")
        #expect(Self.texts(from: me.id, in: await Self.collect(yours, from: me.id, count: 1, within: 5)) == ["fourth"])
        #expect(try b.metric("chat_delivery_order_held_total") == 2)
        #expect(try b.metric("chat_delivery_order_timeouts_total") == 1)
        await yours.close()
    }

    @Test("a process starts its delivery numbering afresh: one left by an earlier process with its node id holds nothing", .timeLimit(.minutes(1)))
    func staleNumberingIsReset() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let node = "reused-\(UUID().uuidString.prefix(8))"
        let partitions = 0..<testKeys.layout.partitions
        for partition in partitions { _ = try await redis.send("HSET", testKeys.nodeDeliveries(partition: partition), node, 5000) }
        let b = try await BridgeProcess(redisURL: try TestEnvironment.redisURL(), node: node, settings: DeliveryTests.settings)
        for partition in partitions {
            _ = try await eventually(within: 10) {
                try await redis.send("HEXISTS", testKeys.nodeDeliveries(partition: partition), node).integer == 0
            }
        }
        let (me, you) = try (Self.openUser(b), Self.openUser(b))
        let (yours, _) = try await DeliveryTests.connected(b, you.token)
        for index in 0..<3 { _ = try Self.send(b, me, to: you.id, "n\(index)") }
        #expect(Self.texts(from: me.id, in: await Self.collect(yours, from: me.id, count: 3)) == ["n0", "n1", "n2"])
        #expect(try b.metric("chat_delivery_order_held_total") == 0)
        await yours.close()
    }

    // MARK: The WebSocket send frame

    static func sendFrame(_ cid: String?, to: Int, _ data: String, extra: [String: Any] = [:]) throws -> String {
        var frame: [String: Any] = ["type": "send", "message": ["sendto_id": to, "chatType": "single", "type": "text", "data": data]]
        if let cid { frame["cid"] = cid }
        for (key, value) in extra { frame[key] = value }
        return String(decoding: try JSONSerialization.data(withJSONObject: frame), as: UTF8.self)
    }

    /// The next acknowledgement among the socket's frames.
    static func acknowledgement(_ socket: WebSocketTestClient) async throws -> [String: Any] {
        while true {
            let frame = GatewayTests.object(try await socket.nextText())
            if frame["type"] as? String == "ack" { return frame }
        }
    }

    @Test("send frames: acknowledged with the message or the Chinese text, in order; a retried client id is delivered once", .timeLimit(.minutes(1)))
    func sendFrames() async throws {
        let (a, b) = try await (DeliveryTests.bridge(), DeliveryTests.bridge())
        let (me, you) = try (Self.openUser(a), Self.openUser(b))
        // frames sent before the welcome wait for the connection to be accepted
        let mine = try await a.connect(token: me.token)
        try await mine.send(text: try Self.sendFrame("early", to: you.id, "first"))
        let (yours, beforeWelcome) = try await DeliveryTests.connected(b, you.token)

        let early = try await Self.acknowledgement(mine)
        #expect(early["cid"] as? String == "early" && early["msg"] as? String == "ok")
        let message = try #require(early["data"] as? [String: Any])
        #expect(message["from_id"] as? Int == me.id && message["to_id"] as? Int == you.id && message["data"] as? String == "first")
        #expect(Set(early.keys) == ["type", "cid", "msg", "data"])

        // a retry of the same client id: the same message again, delivered once
        try await mine.send(text: try Self.sendFrame("early", to: you.id, "first"))
        let again = try await Self.acknowledgement(mine)
        #expect(NSDictionary(dictionary: again["data"] as? [String: Any] ?? [:]).isEqual(to: message))
        // the record keeps the id only; gone from my history, the id alone answers
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let id = try #require(message["id"] as? String)
        #expect(try await redis.send("GET", testKeys.sentByClientID(me.id, "early")).string == id)
        #expect(try await redis.send("DEL", testKeys.singleHistory(owner: me.id, peer: you.id)).integer == 1)
        try await mine.send(text: try Self.sendFrame("early", to: you.id, "first"))
        let late = try await Self.acknowledgement(mine)
        #expect(late["msg"] as? String == "ok" && late["cid"] as? String == "early")
        #expect(NSDictionary(dictionary: late["data"] as? [String: Any] ?? [:]).isEqual(to: ["id": id]))

        // many frames at once: acknowledged and delivered in order
        for index in 0..<50 { try await mine.send(text: try Self.sendFrame("c\(index)", to: you.id, "w\(index)")) }
        var cids: [String] = []
        for _ in 0..<50 { cids.append(try await Self.acknowledgement(mine)["cid"] as? String ?? "") }
        #expect(cids == (0..<50).map { "c\($0)" })
        let frames = beforeWelcome + (await Self.collect(yours, from: me.id, count: 51 - Self.texts(from: me.id, in: beforeWelcome).count))
        #expect(Self.texts(from: me.id, in: frames) == ["first"] + (0..<50).map { "w\($0)" })
        #expect(Self.texts(from: me.id, in: await yours.texts(for: 0.3)).isEmpty)

        // Redis forgot the scripts (restart, SCRIPT FLUSH): the send loads it again
        #expect(try await redis.send("SCRIPT", "FLUSH").string == "OK")
        try await mine.send(text: try Self.sendFrame("after-flush", to: you.id, "flushed"))
        #expect(try await Self.acknowledgement(mine)["msg"] as? String == "ok")
        #expect(Self.texts(from: me.id, in: await Self.collect(yours, from: me.id, count: 1)) == ["flushed"])

        // refusals: the text of the HTTP endpoint, with the client id (null when unusable)
        let refusals: [(String, String?, String)] = [
            (try Self.sendFrame(nil, to: you.id, "x"), nil, "参数cid不能为空"),
            (try Self.sendFrame(String(repeating: "c", count: 65), to: you.id, "x"), nil, "参数cid长度应在1-64之间"),
            (#"{"type":"send","cid":"m1"}"#, "m1", "参数message不能为空"),
            (try Self.sendFrame("r1", to: 2_000_000_000, "x"), "r1", "对方不存在或者被禁用，不能发消息"),
            (try Self.sendFrame("r2", to: me.id, "x"), "r2", "不能给自己发消息"),
            (#"{"type":"send","cid":"r3","message":{"sendto_id":1,"chatType":"single","type":"text"}}"#, "r3", "参数data不能为空"),
            // issue 17: the limits table, as over HTTP (an image's data as stored: its JSON text)
            (
                #"{"type":"send","cid":"r4","message":{"sendto_id":1,"chatType":"single","type":"image","data":""#
                    + String(repeating: "a", count: 16_383) + #""}}"#,
                "r4", "参数data不能超过16384字节"
            ),
        ]
        for (frame, cid, text) in refusals {
            try await mine.send(text: frame)
            let ack = try await Self.acknowledgement(mine)
            #expect(ack["msg"] as? String == "fail" && ack["data"] as? String == text, "\(frame)")
            #expect(ack["cid"] as? String == cid && ack.keys.contains("cid"))
        }

        // the token of the socket is checked at every send: once it is not the account's
        // current one, refused. (Issue 18: a logout now kicks the socket at once, and a
        // heartbeat kicks a socket whose token's signature is not the current token's —
        // RevocationTests; this stored value keeps the signature, so only the send's
        // own check, a whole-token comparison, can refuse.)
        _ = try await redis.send("SET", testKeys.userToken(me.id), "x" + me.token)
        try await mine.send(text: try Self.sendFrame("after-logout", to: you.id, "x"))
        let refused = try await Self.acknowledgement(mine)
        #expect(refused["data"] as? String == "Token 令牌不合法！")
        #expect(Self.texts(from: me.id, in: await yours.texts(for: 0.3)).isEmpty)
        await mine.close()
        await yours.close()
    }
}

extension TestBridge {
    /// `LLEN` on the shared test Redis.
    static func sharedRedisLength(_ key: String) async throws -> Int {
        let redis = try sharedRedis()
        defer { Task { await redis.shutdown() } }
        return Int(try await redis.send("LLEN", key).integer ?? -1)
    }
}
