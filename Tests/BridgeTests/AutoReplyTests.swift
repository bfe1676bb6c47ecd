import Foundation
import Model
import RedisClient
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// The Q&A auto reply end to end, with real bridge processes: a question sent with
/// `options.askanswer` (HTTP or the WebSocket send frame) gets the owner's closest answer
/// on the asker's socket about 1.2 s later, as a message from the owner, stored and
/// streamed; the owner's socket gets the notice; no close answer, no option: nothing; a
/// graceful shutdown still answers the questions already asked.
@Suite("Q&A auto replies across bridge processes", .serialized, .offCooperativePool)
struct AutoReplyTests {
    typealias Account = ChatDeliveryTests.Account

    static func pair(_ bridge: BridgeProcess, _ owner: Account, _ ask: String, _ answer: String) throws -> Int {
        let response = try bridge.post("/api/chat/askanswer/create", ["ask": ask, "answer": answer], token: owner.token)
        let data = try #require(response.body["data"] as? [String: Any], "\(response)")
        return try #require(data["id"] as? Int)
    }

    static func ask(_ bridge: BridgeProcess, _ from: Account, to: Int, _ data: Any, options: Any? = ["askanswer": true]) throws -> [String: Any] {
        var body: [String: Any] = ["sendto_id": to, "chatType": "single", "type": "text", "data": data]
        if let options { body["options"] = options }
        let response = try bridge.post("/api/chat/socket/sendmessage", body, token: from.token)
        #expect(response.status == 200, "\(response)")
        return response.body["data"] as? [String: Any] ?? [:]
    }

    /// The delivered messages (`singleChat` frames' `data`) from `sender` among `frames`.
    static func messages(from sender: Int, in frames: [String]) -> [[String: Any]] {
        frames.compactMap { text in
            let frame = GatewayTests.object(text)
            guard frame["type"] as? String == "singleChat", let message = frame["data"] as? [String: Any],
                  message["from_id"] as? Int == sender else { return nil }
            return message
        }
    }

    /// Frames until `count` messages from `sender` arrived (or `seconds` passed).
    static func collect(_ socket: WebSocketTestClient, from sender: Int, count: Int, within seconds: Double = 6) async -> [[String: Any]] {
        var frames: [String] = []
        let deadline = Date().addingTimeInterval(seconds)
        while messages(from: sender, in: frames).count < count, deadline.timeIntervalSinceNow > 0 {
            guard let text = try? await socket.nextText(within: deadline.timeIntervalSinceNow) else { break }
            frames.append(text)
        }
        return messages(from: sender, in: frames)
    }

    static func list(_ redis: RedisClient, _ key: String) async throws -> [[String: Any]] {
        (try await redis.send("LRANGE", key, 0, -1).array ?? []).compactMap { $0.string.map(GatewayTests.object) }
    }

    @Test("HTTP question: the answer on the asker's socket after ~1.2 s, stored and streamed; the notice on the owner's", .timeLimit(.minutes(1)))
    func httpQuestion() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let bridge = try await DeliveryTests.bridge()
        let (owner, asker) = try (bridge.register(), bridge.register())
        _ = try Self.pair(bridge, owner, "包邮吗", "满99包邮")
        let freight = try Self.pair(bridge, owner, "运费多少", "全国包邮，偏远地区10元")
        let (askerSocket, _) = try await DeliveryTests.connected(bridge, asker.token)
        let (ownerSocket, _) = try await DeliveryTests.connected(bridge, owner.token)

        let asked = Date()
        // as the deployed client sends options: URI-encoded JSON text
        let question = try Self.ask(bridge, asker, to: owner.id, "请问运费多少钱？", options: "%7B%22askanswer%22%3Atrue%7D")
        let replies = await Self.collect(askerSocket, from: owner.id, count: 1)
        let elapsed = Date().timeIntervalSince(asked)
        let reply = try #require(replies.first)
        #expect(elapsed >= 1.1 && elapsed < 4, "answered after \(elapsed) s")
        #expect(reply["to_id"] as? Int == asker.id && reply["chatType"] as? String == "single" && reply["type"] as? String == "text")
        #expect(reply["data"] as? String == "全国包邮，偏远地区10元")
        #expect(reply["from_name"] as? String == owner.username && reply["to_name"] as? String == asker.username)
        let options = try #require((reply["options"] as? [String: Any])?["askanswer_reply"] as? [String: Any])
        #expect(options["id"] as? Int == freight && options["ask"] as? String == "运费多少")
        #expect((reply["create_time"] as? Int ?? 0) > (question["create_time"] as? Int ?? .max))

        // the owner: the question, then the notice from the asker
        let ownerFrames = await Self.collect(ownerSocket, from: asker.id, count: 2)
        #expect(ownerFrames.first?["id"] as? String == question["id"] as? String)
        let notice = try #require(ownerFrames.dropFirst().first)
        #expect(notice["type"] as? String == "systemNotice" && notice["to_id"] as? Int == owner.id)
        #expect(notice["from_name"] as? String == asker.username)
        let text = "已自动回复\(asker.username)的问题“请问运费多少钱？”：全国包邮，偏远地区10元"
        #expect((notice["data"] as? [String: Any])?["data"] as? String == text)
        let about = try #require(notice["askanswer"] as? [String: Any])
        #expect(about["id"] as? Int == freight && about["ask"] as? String == "运费多少" && about["message_id"] as? String == reply["id"] as? String)

        // stored in both histories, streamed, and the owner's pre-friendship quota untouched
        for key in [testKeys.singleHistory(owner: asker.id, peer: owner.id), testKeys.singleHistory(owner: owner.id, peer: asker.id)] {
            #expect(try await Self.list(redis, key).map { $0["id"] as? String } == [question["id"] as? String, reply["id"] as? String])
        }
        // every entry since the answer was made (stream ids are Redis' clock in ms, as create_time)
        let made = (reply["create_time"] as? Int ?? 0) - 1
        var streamed: [RedisReply] = []
        for shard in ShardedStream.messages.shards {
            streamed += try await redis.send("XRANGE", shard, String(made), "+").array ?? []
        }
        #expect(streamed.contains { $0.array?.last?.fieldValues["id"] == reply["id"] as? String })
        #expect(try await redis.send("HEXISTS", testKeys.quota(owner.id), String(asker.id)).integer == 0)
        // the asker's own quota still counts: a second message before friendship is refused
        let second = try bridge.post(
            "/api/chat/socket/sendmessage", ["sendto_id": owner.id, "chatType": "single", "type": "text", "data": "还在吗"], token: asker.token
        )
        #expect(second.status == 400 && second.body["data"] as? String == "在成为好友之前，对方只允许向他发一条消息")
        await askerSocket.close()
        await ownerSocket.close()
    }

    @Test("WebSocket send frame with a wrapped question: a wrapped answer; no close answer or no option: nothing", .timeLimit(.minutes(1)))
    func frameQuestion() async throws {
        let (a, b) = try await (DeliveryTests.bridge(), DeliveryTests.bridge())
        let owner = try ChatDeliveryTests.openUser(b)
        let asker = try ChatDeliveryTests.openUser(a)
        let refund = try Self.pair(b, owner, "怎么申请退货", "订单页点“申请售后”")
        let (askerSocket, _) = try await DeliveryTests.connected(a, asker.token)

        let wrapped: [String: Any] = ["data": "如何申请退货", "dataType": false, "otherData": NSNull()]
        let frame: [String: Any] = [
            "type": "send", "cid": "q1",
            "message": ["sendto_id": owner.id, "chatType": "single", "type": "text", "data": wrapped, "options": ["askanswer": 1]],
        ]
        try await askerSocket.send(text: String(decoding: try JSONSerialization.data(withJSONObject: frame), as: UTF8.self))
        #expect(try await ChatDeliveryTests.acknowledgement(askerSocket)["msg"] as? String == "ok")
        let reply = try #require(await Self.collect(askerSocket, from: owner.id, count: 1).first)
        let data = try #require(reply["data"] as? [String: Any])
        #expect(data["data"] as? String == "订单页点“申请售后”" && data["dataType"] as? Bool == false && data["otherData"] is NSNull)
        #expect(((reply["options"] as? [String: Any])?["askanswer_reply"] as? [String: Any])?["id"] as? Int == refund)

        // a retried client id is the same message: no second answer (checked below)
        try await askerSocket.send(text: String(decoding: try JSONSerialization.data(withJSONObject: frame), as: UTF8.self))
        #expect(try await ChatDeliveryTests.acknowledgement(askerSocket)["msg"] as? String == "ok")
        // nothing close enough; the option false; no option: no answer
        _ = try Self.ask(a, asker, to: owner.id, "今天天气怎么样")
        _ = try Self.ask(a, asker, to: owner.id, "怎么申请退货", options: ["askanswer": false])
        _ = try Self.ask(a, asker, to: owner.id, "怎么申请退货", options: nil)
        #expect(await Self.collect(askerSocket, from: owner.id, count: 1, within: 2.5).isEmpty)
        await askerSocket.close()
    }

    @Test("graceful shutdown right after a question: the answer still goes out (queued for the asker)", .timeLimit(.minutes(1)))
    func shutdownDrains() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let bridge = try await DeliveryTests.bridge()
        let (owner, asker) = try (bridge.register(), bridge.register())
        _ = try Self.pair(bridge, owner, "营业时间", "每天9点到18点")
        let question = try Self.ask(bridge, asker, to: owner.id, "营业时间是几点？")
        bridge.signal(SIGTERM)
        // polled without blocking a thread of the shared pool (timing tests run alongside)
        var status: Int32?
        for _ in 0..<750 where status == nil {
            try await Task.sleep(for: .milliseconds(20))
            status = bridge.waitForExit(timeout: 0)
        }
        #expect(status == 0)
        let queued = try await Self.list(redis, testKeys.offlineQueue(asker.id))
        #expect(queued.map { $0["data"] as? String } == ["每天9点到18点"])
        let history = try await Self.list(redis, testKeys.singleHistory(owner: asker.id, peer: owner.id))
        #expect(history.map { $0["id"] as? String } == [question["id"] as? String, queued.first?["id"] as? String])
    }

    @Test("a full queue: the questions are accepted and stored, the answers beyond the queue dropped, counted and logged", .timeLimit(.minutes(1)))
    func queueFull() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        var settings = DeliveryTests.settings
        settings["AUTO_REPLY_QUEUE"] = "2"
        settings["AUTO_REPLY_WORKERS"] = "1"
        let bridge = try await BridgeProcess(redisURL: try TestEnvironment.redisURL(), settings: settings)
        let owner = try ChatDeliveryTests.openUser(bridge)
        let asker = try bridge.register()
        _ = try Self.pair(bridge, owner, "运费多少", "全国包邮")
        let (askerSocket, _) = try await DeliveryTests.connected(bridge, asker.token)

        // the first is taken at once (waiting for its time); two fit the queue; seven do not
        var questions = [try Self.ask(bridge, asker, to: owner.id, "运费多少？")]
        try await Task.sleep(for: .milliseconds(200))
        for index in 1..<10 { questions.append(try Self.ask(bridge, asker, to: owner.id, "运费多少\(index)")) }
        let replies = await Self.collect(askerSocket, from: owner.id, count: 4, within: 6)
        #expect(replies.count == 3 && replies.allSatisfy { $0["data"] as? String == "全国包邮" }, "\(replies)")
        #expect(try bridge.metric(#"chat_askanswer_replies_total{outcome="dropped"}"#) == 7)
        #expect(try bridge.metric(#"chat_askanswer_replies_total{outcome="answered"}"#) == 3)
        #expect(try bridge.metric("chat_askanswer_queue_depth") == 0)
        // every question accepted and stored, the three answers after them
        let history = try await Self.list(redis, testKeys.singleHistory(owner: asker.id, peer: owner.id))
        #expect(history.prefix(10).map { $0["id"] as? String } == questions.map { $0["id"] as? String })
        #expect(history.count == 13)
        let log = (try? String(contentsOfFile: bridge.logPath, encoding: .utf8)) ?? ""
        #expect(log.components(separatedBy: "automatic answers queue full").count - 1 == 1, "logged once (the first drop)")
        await askerSocket.close()
    }
}
