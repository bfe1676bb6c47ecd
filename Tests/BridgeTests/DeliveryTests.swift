import ChatScripts
import Foundation
import Logging
import LuaScripts
import Model
import RedisClient
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// Delivery across processes (docs/api.md, *Delivery* and *Single-device login*): real
/// bridge processes sharing one Redis, and this test process as one more node.
@Suite("Delivery across bridge processes", .serialized, .offCooperativePool)
struct DeliveryTests {
    /// Short, so that a killed process stops being a target quickly.
    // 500 ms: killedProcess needs a moment between "dead" (three heartbeats) and "reaped"
    // (six) wide enough for a loaded machine; at 200 ms it was missed beside the whole suite.
    static let heartbeatMilliseconds = 500
    static let settings = ["HEARTBEAT_MS": "\(heartbeatMilliseconds)"]

    /// A bridge process on the shared test Redis, with the short heartbeat.
    static func bridge() async throws -> BridgeProcess {
        try await BridgeProcess(redisURL: try TestEnvironment.redisURL(), settings: settings)
    }

    /// This test process as a node of its own (it holds no connections).
    static func node(_ redis: RedisClient) -> MessageDelivery {
        var policy = DeliveryPolicy()
        policy.heartbeat = .milliseconds(heartbeatMilliseconds)
        let scripts = RedisScripts(client: redis, scripts: LuaScripts.all.map { RedisScript(name: $0.name, source: $0.source) })
        return MessageDelivery(
            scripts: scripts, keys: testKeys, connections: ConnectionTable(), node: "test-\(UUID().uuidString.prefix(8))", policy: policy,
            logger: Logger(label: "test"), background: BackgroundWork(owned: false)
        )
    }

    static func message(_ text: String, to user: Int) -> [UInt8] {
        Array(#"{"id":"\#(UUID().uuidString.lowercased())","from_id":1,"to_id":\#(user),"chatType":"single","type":"text","data":"\#(text)"}"#.utf8)
    }

    /// The `data.data` of every `singleChat` frame among `texts`, skipping guidance.
    static func delivered(_ texts: [String]) -> [String] {
        texts.compactMap { text in
            let frame = GatewayTests.object(text)
            guard frame["type"] as? String == "singleChat", let message = frame["data"] as? [String: Any],
                  message["from_id"] as? Int == 1 else { return nil }
            return message["data"] as? String
        }
    }

    /// Connects and waits for the welcome (the registration is then complete).
    static func connected(_ bridge: BridgeProcess, _ token: String) async throws -> (WebSocketTestClient, [String]) {
        let socket = try await bridge.connect(token: token)
        var before: [String] = []
        while true {
            let text = try await socket.nextText()
            if text.contains(#""type":"system""#) { return (socket, before) }
            before.append(text)
        }
    }

    @Test("a user on process A receives what another process delivers; the sender gets no echo", .timeLimit(.minutes(1)))
    func crossProcess() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let (a, b) = try await (Self.bridge(), Self.bridge())
        let delivery = Self.node(redis)
        let user = try b.register()
        let (socket, _) = try await Self.connected(a, user.token)
        _ = await socket.texts(for: 0.2)

        for index in 0..<20 {
            let outcome = try await delivery.deliver(Self.message("m\(index)", to: user.id), to: user.id)
            #expect(outcome == .routed(node: a.node))
        }
        let texts = await socket.texts(for: 0.5)
        #expect(Self.delivered(texts) == (0..<20).map { "m\($0)" })
        let frame = GatewayTests.object(try #require(texts.first))
        #expect(frame.keys.sorted() == ["data", "timestamp", "type"])
        #expect(try await redis.send("LLEN", testKeys.offlineQueue(user.id)).integer == 0)

        // Heartbeats keep the target alive well past its TTL (three heartbeats).
        try await Task.sleep(for: .milliseconds(Self.heartbeatMilliseconds * 8))
        #expect(try await delivery.deliver(Self.message("later", to: user.id), to: user.id) == .routed(node: a.node))
        #expect(Self.delivered(await socket.texts(for: 0.3)) == ["later"])
    }

    @Test("an offline queue keeps the newest messages up to its cap", .timeLimit(.minutes(1)))
    func offlineCap() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        var delivery = Self.node(redis)
        delivery = MessageDelivery(
            scripts: delivery.scripts, keys: testKeys, connections: delivery.connections, node: delivery.node,
            policy: { var policy = delivery.policy; policy.offlineQueueCap = 3; return policy }(), logger: delivery.logger,
            background: delivery.background
        )
        let user = Int.random(in: 10_000_000...99_999_999)
        var outcomes: [DeliveryRoute] = []
        for index in 0..<5 {
            outcomes.append(try await delivery.deliver(Self.message("c\(index)", to: user), to: user))
        }
        #expect(outcomes == [.queued(dropped: 0), .queued(dropped: 0), .queued(dropped: 0), .queued(dropped: 1), .queued(dropped: 1)])
        let queued = try await redis.send("LRANGE", testKeys.offlineQueue(user), 0, -1).array?.compactMap(\.string) ?? []
        #expect(queued.map { GatewayTests.object($0)["data"] as? String } == ["c2", "c3", "c4"])
    }

    @Test("a new login connecting on B kicks A's connection; a same-token reconnect does not", .timeLimit(.minutes(1)))
    func singleDeviceLogin() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let (a, b) = try await (Self.bridge(), Self.bridge())
        let user = try a.register()

        // Same token twice (a reconnect race): both stay open, the newer is the target.
        let (first, _) = try await Self.connected(a, user.token)
        let (second, _) = try await Self.connected(b, user.token)
        #expect(try await redis.send("GET", testKeys.online(user.id)).string?.hasPrefix(b.node + ":") == true)
        let quiet = await first.texts(for: 0.3)
        #expect(!quiet.contains { $0.contains("force_logout") })

        // The older one closing does not unregister the newer one (compare-and-delete).
        await first.close()
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await redis.send("GET", testKeys.online(user.id)).string?.hasPrefix(b.node + ":") == true)

        // A new login connecting on A kicks B's connection: force_logout, then a close frame.
        let relogin = try a.login(user.username)
        let (third, _) = try await Self.connected(a, relogin.token)
        let events = try await second.eventsUntilEnd()
        let texts = events.compactMap { if case .text(let text) = $0 { text } else { nil } }
        #expect(texts.last == #"{"msg":"force_logout","data":"你的账号在其他设备登录"}"#)
        #expect(Array(events.suffix(2)) == [.closeFrame(code: 1000), .disconnected])
        #expect(try await redis.send("GET", testKeys.online(user.id)).string?.hasPrefix(a.node + ":") == true)

        await third.close()
        _ = try await eventually(within: 5) { try await redis.send("EXISTS", testKeys.online(user.id)).integer == 0 }
    }

    @Test("after SIGKILL of A, what is sent to it reaches the offline queue and the next connection gets it once, in order", .timeLimit(.minutes(1)))
    func killedProcess() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let (a, b) = try await (Self.bridge(), Self.bridge())
        let delivery = Self.node(redis)
        let user = try b.register()
        let (socket, _) = try await Self.connected(a, user.token)

        a.signal(SIGKILL)
        let killed = ContinuousClock.now
        _ = try await socket.eventsUntilEnd()
        // Its online_ key still names A, alive for three heartbeats: what is sent meanwhile
        // waits in A's stream (nothing goes into the void: the stream is Redis')...
        #expect(try await redis.send("GET", testKeys.online(user.id)).string?.hasPrefix(a.node + ":") == true)
        for index in 0..<30 {
            let outcome = try await delivery.deliver(Self.message("k\(index)", to: user.id), to: user.id)
            #expect(outcome == .routed(node: a.node), "message \(index)")
        }
        // ...and once A is dead, what comes next goes behind it, until it is reaped.
        // Four heartbeats after the kill, however long the sends took: dead (three since its
        // last heartbeat), not yet reaped (six).
        try await Task.sleep(until: killed.advanced(by: .milliseconds(Self.heartbeatMilliseconds * 4)), clock: .continuous)
        #expect(try await delivery.deliver(Self.message("k30", to: user.id), to: user.id) == .routed(node: a.node))
        // B reaps A's stream after six heartbeats and routes it again: to the queue, in order.
        _ = try await eventually(within: 10) { try await redis.send("LLEN", testKeys.offlineQueue(user.id)).integer == 31 }
        for partition in 0..<testKeys.layout.partitions {
            #expect(try await redis.send("EXISTS", testKeys.nodeStream(a.node, partition: partition)).integer == 0)
        }
        #expect(try await delivery.deliver(Self.message("k31", to: user.id), to: user.id) == .queued(dropped: 0))
        #expect(try await redis.send("EXISTS", testKeys.online(user.id)).integer == 0)

        let (next, beforeWelcome) = try await Self.connected(b, user.token)
        #expect(Self.delivered(beforeWelcome) == (0...31).map { "k\($0)" })
        #expect(Self.delivered(await next.texts(for: 0.5)).isEmpty)
        #expect(try await redis.send("LLEN", testKeys.offlineQueue(user.id)).integer == 0)
    }

    @Test("a delivery to a connection that has gone is queued, not lost", .timeLimit(.minutes(1)))
    func vanishedTarget() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let a = try await Self.bridge()
        let delivery = Self.node(redis)
        let user = try a.register()
        // A target on a live process whose connection does not exist (closed, release pending).
        _ = try await redis.send("SET", testKeys.online(user.id), "\(a.node):999999", "PX", 10_000)
        #expect(try await delivery.deliver(Self.message("lost?", to: user.id), to: user.id) == .routed(node: a.node))
        _ = try await eventually(within: 5) { try await redis.send("LLEN", testKeys.offlineQueue(user.id)).integer == 1 }
        let (_, beforeWelcome) = try await Self.connected(a, user.token)
        #expect(Self.delivered(beforeWelcome) == ["lost?"])
    }

    @Test("a heartbeat forgets processes silent for too long, and their delivery numbers", .timeLimit(.minutes(1)))
    func heartbeatPrunes() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let delivery = Self.node(redis)
        let gone = "gone-\(UUID().uuidString.prefix(8))"
        // Its number first: another test's bridge may prune it as soon as it is in the zset
        // (then both go together), never in between.
        // In every partition (one when plain): a heartbeat runs in each.
        let partitions = 0..<testKeys.layout.partitions
        for partition in partitions {
            _ = try await redis.send("HSET", testKeys.nodeDeliveries(partition: partition), gone, 12, delivery.node, 3)
            _ = try await redis.send("ZADD", testKeys.nodes(partition: partition), 1, gone)
        }
        await NodeHeartbeat(delivery: delivery, logger: Logger(label: "test")).beat()
        for partition in partitions {
            let (nodes, deliveries) = (testKeys.nodes(partition: partition), testKeys.nodeDeliveries(partition: partition))
            #expect(try await redis.send("ZSCORE", nodes, gone).isNull, "partition \(partition)")
            #expect(try await redis.send("HGET", deliveries, gone).isNull, "partition \(partition)")
            #expect(try await redis.send("ZSCORE", nodes, delivery.node).string != nil, "partition \(partition)")
            #expect(try await redis.send("HGET", deliveries, delivery.node).string == "3", "partition \(partition)")
        }
        // Leaves as a bridge does: what this node may have reaped from other tests' dead
        // processes is reaped again by a live one.
        for partition in partitions {
            _ = try await delivery.scripts.run(LeaveNodes(keys: testKeys, partition: partition, node: delivery.node))
        }
    }

    @Test("connecting and chatGetmessageOffLine racing: every queued message exactly once, in order", .timeLimit(.minutes(1)))
    func flushRace() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let (a, b) = try await (Self.bridge(), Self.bridge())
        let delivery = Self.node(redis)
        for round in 0..<3 {
            let user = try a.register()
            let count = 1200  // more than one flush batch
            var commands: [RedisCommand] = []
            for index in 0..<count {
                commands.append(RedisCommand("RPUSH", testKeys.offlineQueue(user.id), Self.message("q\(index)", to: user.id)))
            }
            _ = try await redis.pipeline(commands)

            // While the connection registers and flushes, offline-flush requests arrive on
            // both processes and new messages are delivered.
            async let socket = a.connect(token: user.token)
            let requests = Task {
                for index in 0..<6 {
                    _ = try (index % 2 == 0 ? a : b).post("/api/chat/chatGetmessageOffLine", token: user.token)
                }
            }
            let live = Task {
                for index in count..<(count + 50) {
                    _ = try await delivery.deliver(Self.message("q\(index)", to: user.id), to: user.id)
                }
            }
            let client = try await socket
            try await requests.value
            try await live.value
            var received: [String] = []
            while true {
                let texts = await client.texts(for: 0.5)
                if texts.isEmpty { break }
                received += Self.delivered(texts)
            }
            #expect(received == (0..<(count + 50)).map { "q\($0)" }, "round \(round): \(received.count) messages")
            #expect(try await redis.send("LLEN", testKeys.offlineQueue(user.id)).integer == 0)
            await client.close()
        }
    }

    @Test("chatGetmessageOffLine flushes to a connection on another process and answers ok", .timeLimit(.minutes(1)))
    func offlineEndpoint() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let (a, b) = try await (Self.bridge(), Self.bridge())
        let user = try a.register()
        let (socket, _) = try await Self.connected(a, user.token)
        _ = await socket.texts(for: 0.2)
        // Queued behind the connection's back (as while its process was unreachable).
        for index in 0..<5 {
            _ = try await redis.send("RPUSH", testKeys.offlineQueue(user.id), Self.message("o\(index)", to: user.id))
        }
        let response = try b.post("/api/chat/chatGetmessageOffLine", token: user.token)
        #expect(response.status == 200 && response.body["msg"] as? String == "ok" && response.body["data"] as? String == "ok")
        #expect(Self.delivered(await socket.texts(for: 0.5)) == (0..<5).map { "o\($0)" })
        #expect(try await redis.send("LLEN", testKeys.offlineQueue(user.id)).integer == 0)

        // Without a connection the queue stays for the next one.
        await socket.close()
        _ = try await eventually(within: 5) { try await redis.send("EXISTS", testKeys.online(user.id)).integer == 0 }
        _ = try await redis.send("RPUSH", testKeys.offlineQueue(user.id), Self.message("kept", to: user.id))
        #expect(try b.post("/api/chat/chatGetmessageOffLine", token: user.token).status == 200)
        #expect(try await redis.send("LLEN", testKeys.offlineQueue(user.id)).integer == 1)
    }

    @Test("after Redis restarts empty, live delivery resumes without reconnecting", .timeLimit(.minutes(1)))
    func redisRestart() async throws {
        let server = try RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration.forTests(url: server.url))
        defer { Task { await redis.shutdown() } }
        let a = try await BridgeProcess(redisURL: server.url, settings: Self.settings)
        let delivery = Self.node(redis)
        let user = try a.register()
        let (socket, _) = try await Self.connected(a, user.token)
        _ = await socket.texts(for: 0.2)

        try server.restart()  // no persistence: every key is gone, the socket stays open
        _ = try await eventually(within: 10) {
            (try? await redis.send("GET", testKeys.online(user.id)).string)?.hasPrefix(a.node + ":") == true
        }
        #expect(try await delivery.deliver(Self.message("after", to: user.id), to: user.id) == .routed(node: a.node))
        #expect(Self.delivered(await socket.texts(for: 0.5)) == ["after"])
    }
}
