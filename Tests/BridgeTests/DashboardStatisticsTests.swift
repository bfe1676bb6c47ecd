import Foundation
import Model
import RedisClient
import TestSupport
import Testing

/// The dashboard's figures a bridge records with its heartbeat (docs/console.md): its
/// live sockets and their distinct users in chat:nodes:stats, and every send it accepted
/// (HTTP and WebSocket, single and group) in chat:stats:messages:{minute}, refused ones
/// not. A real bridge on a Redis of the test's own.
@Suite("Dashboard statistics from the heartbeat", .serialized, .offCooperativePool)
struct DashboardStatisticsTests {
    static func stats(_ redis: RedisClient, node: String) async throws -> (sockets: Int, users: Int)? {
        guard let text = try await redis.send("HGET", testKeys.nodeStats, node).string,
              let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let sockets = object["sockets"] as? Int, let users = object["users"] as? Int
        else { return nil }
        return (sockets, users)
    }

    /// The sends counted in every minute's counter.
    static func messages(_ redis: RedisClient) async throws -> Int {
        var sum = 0
        for key in try await redis.send("KEYS", RedisKeys.messagesPerMinutePrefix + "*").array?.compactMap(\.string) ?? [] {
            sum += Int(try await redis.send("GET", key).string ?? "") ?? 0
        }
        return sum
    }

    @Test("sockets and users per process and the accepted sends per minute move with the traffic", .timeLimit(.minutes(2)))
    func figuresMove() async throws {
        let server = try RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration.forTests(url: server.url))
        defer { Task { await redis.shutdown() } }
        let bridge = try await BridgeProcess(redisURL: server.url, settings: ["HEARTBEAT_MS": "300"])
        let (a, b) = try (ChatDeliveryTests.openUser(bridge), ChatDeliveryTests.openUser(bridge))
        try await eventually(within: 10) { try await Self.stats(redis, node: bridge.node).map { $0 == (0, 0) } ?? false }
        #expect(try await Self.messages(redis) == 0)

        let (mine, _) = try await DeliveryTests.connected(bridge, a.token)
        let (yours, _) = try await DeliveryTests.connected(bridge, b.token)
        let (yoursAgain, _) = try await DeliveryTests.connected(bridge, b.token)
        try await eventually(within: 10) { try await Self.stats(redis, node: bridge.node).map { $0 == (3, 2) } ?? false }

        // Accepted: two over HTTP, one WebSocket send frame, one to a group.
        _ = try ChatDeliveryTests.send(bridge, a, to: b.id, "一")
        _ = try ChatDeliveryTests.send(bridge, b, to: a.id, "二")
        try await mine.send(text: try ChatDeliveryTests.sendFrame("c1", to: b.id, "三"))
        #expect(try await ChatDeliveryTests.acknowledgement(mine)["cid"] as? String == "c1")
        let group = try await OfflineQueueTests.group(redis, bridge, owner: a, members: [b])
        _ = try OfflineQueueTests.sendToGroup(bridge, group, "四", from: a)
        // Refused: to nobody; a repeated client id is the same message, not a new one.
        let refused = try bridge.post(
            "/api/chat/socket/sendmessage", ["sendto_id": 999_999, "chatType": "single", "type": "text", "data": "无"], token: a.token
        )
        #expect(refused.body["msg"] as? String == "fail", "\(refused)")
        try await mine.send(text: try ChatDeliveryTests.sendFrame("c1", to: b.id, "三"))
        #expect(try await ChatDeliveryTests.acknowledgement(mine)["cid"] as? String == "c1")

        try await eventually(within: 10) { try await Self.messages(redis) == 4 }
        try await Task.sleep(for: .milliseconds(900))
        #expect(try await Self.messages(redis) == 4, "counted once: each beat takes what came since the last")
        for key in try await redis.send("KEYS", RedisKeys.messagesPerMinutePrefix + "*").array?.compactMap(\.string) ?? [] {
            let ttl = try await redis.send("TTL", key).integer ?? 0
            #expect(ttl > 7000 && ttl <= 7200, "\(key) expires after two hours")
        }

        await yours.close()
        await yoursAgain.close()
        try await eventually(within: 10) { try await Self.stats(redis, node: bridge.node).map { $0 == (1, 1) } ?? false }
        await mine.close()

        // A stopped process takes its figures with it.
        bridge.signal(SIGTERM)
        _ = bridge.waitForExit(timeout: 20)
        #expect(try await redis.send("HEXISTS", testKeys.nodeStats, bridge.node).integer == 0)
    }

    @Test("a heartbeat that fails keeps the sends it took: they are counted at the next one", .timeLimit(.minutes(2)))
    func failedBeatGivesBack() async throws {
        let server = try RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration.forTests(url: server.url))
        defer { Task { await redis.shutdown() } }
        let bridge = try await BridgeProcess(redisURL: server.url, settings: ["HEARTBEAT_MS": "300"])
        let (a, b) = try (ChatDeliveryTests.openUser(bridge), ChatDeliveryTests.openUser(bridge))
        // The heartbeat script fails (its stats key is of the wrong type) while sends go on.
        try await redis.send("SET", testKeys.nodeStats, "not a hash").throwingOnError()
        for text in ["一", "二", "三"] { _ = try ChatDeliveryTests.send(bridge, a, to: b.id, text) }
        try await Task.sleep(for: .milliseconds(1000))
        #expect(try await Self.messages(redis) == 0)
        try await redis.send("DEL", testKeys.nodeStats).throwingOnError()
        try await eventually(within: 10) { try await Self.messages(redis) == 3 }
        try await Task.sleep(for: .milliseconds(700))
        #expect(try await Self.messages(redis) == 3)
    }
}
