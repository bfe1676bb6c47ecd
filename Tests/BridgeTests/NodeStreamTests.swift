import ChatScripts
import Foundation
import Model
import RedisClient
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// Routing between processes through their streams (docs/architecture.md, *Delivery*):
/// whatever breaks — the listener's connection, Redis itself, a process — every accepted
/// message is delivered live exactly once or waits in the recipient's offline queue.
/// Real bridge processes on a Redis of the test's own.
@Suite("Node streams: routing that cannot drop", .serialized, .offCooperativePool)
struct NodeStreamTests {
    /// Dead after 3 s, reaped after 6 s: a Redis restart does not make a process dead.
    static let settings = ["HEARTBEAT_MS": "1000"]

    /// The Redis client ids of the connections blocked in (or last used for) `XREAD`:
    /// the bridges' node stream readers.
    static func readers(_ redis: RedisClient) async throws -> [String] {
        let list = try await redis.send("CLIENT", "LIST", "TYPE", "normal").string ?? ""
        return list.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.contains("cmd=xread") else { return nil }
            return fields.first { $0.hasPrefix("id=") }.map { String($0.dropFirst(3)) }
        }
    }

    /// Frames until none came for `quiet` seconds.
    static func framesUntilQuiet(_ socket: WebSocketTestClient, quiet: Double = 1.5) async -> [String] {
        var frames: [String] = []
        while true {
            let more = await socket.texts(for: quiet)
            if more.isEmpty { return frames }
            frames += more
        }
    }

    @Test("the listener's connection killed again and again and Redis restarted, under a steady send load: every accepted message once, in order", .timeLimit(.minutes(2)))
    func killedReadsAndRestart() async throws {
        let server = try RedisServerProcess(extraArguments: ["--appendonly", "yes"])
        let redis = RedisClient(configuration: try RedisConfiguration.forTests(url: server.url))
        defer { Task { await redis.shutdown() } }
        let (a, b) = try await (
            BridgeProcess(redisURL: server.url, settings: Self.settings), BridgeProcess(redisURL: server.url, settings: Self.settings)
        )
        let (me, you) = try (ChatDeliveryTests.openUser(a), ChatDeliveryTests.openUser(b))
        let (yours, _) = try await DeliveryTests.connected(b, you.token)
        #expect(DeliveryTarget(try await redis.send("GET", testKeys.online(you.id)).string ?? "")?.node == b.node)

        // A sends steadily to B's user; what Redis refused (while it restarts) is not accepted.
        let count = 600
        let sending = Task.detached { () -> [Int] in
            var accepted: [Int] = []
            for index in 0..<count {
                let response = try? a.post(
                    "/api/chat/socket/sendmessage",
                    ["sendto_id": you.id, "chatType": "single", "type": "text", "data": "k\(index)"], token: me.token
                )
                if response?.status == 200 { accepted.append(index) }
            }
            return accepted
        }
        var kills = 0
        for round in 0..<40 {
            try await Task.sleep(for: .milliseconds(50))
            if round == 20 {
                try server.restart()  // SIGTERM: the append-only file is complete
                continue
            }
            for id in (try? await Self.readers(redis)) ?? [] {
                if (try? await redis.send("CLIENT", "KILL", "ID", id))?.integer == 1 { kills += 1 }
            }
        }
        let accepted = try await sending.value
        // Nothing subscribes to pub/sub any more: there is nothing there to drop.
        #expect(try await redis.send("CLIENT", "KILL", "TYPE", "pubsub").integer == 0)

        let live = ChatDeliveryTests.texts(from: me.id, in: await Self.framesUntilQuiet(yours))
        await yours.close()
        // What was queued meanwhile comes with the next connection, before its welcome.
        let (again, beforeWelcome) = try await DeliveryTests.connected(b, you.token)
        let queued = ChatDeliveryTests.texts(from: me.id, in: beforeWelcome + (await again.texts(for: 0.5)))
        await again.close()

        let indices = (live + queued).compactMap { Int($0.dropFirst()) }
        #expect(kills >= 10, "the readers were killed \(kills) times")
        #expect(try b.metric("chat_node_stream_read_failures_total") >= 10)
        #expect(accepted.count >= count / 2, "accepted: \(accepted.count)")
        #expect(Set(indices).count == indices.count, "delivered twice: \(indices.count - Set(indices).count)")
        #expect(Set(accepted).subtracting(indices).sorted() == [], "accepted, never delivered")
        #expect(indices.allSatisfy { (0..<count).contains($0) })
        // One sender, one process taking the sends: the accepted messages' live pushes in
        // the order sent. (On a partitioned layout a send whose recipient's step failed —
        // Redis restarting — was answered with an error, and the repairer finished it
        // later: pushed once, when repaired, after later sends.)
        let acceptedSet = Set(accepted)
        let liveIndices = live.compactMap { Int($0.dropFirst()) }.filter(acceptedSet.contains)
        #expect(liveIndices == liveIndices.sorted())
        #expect(live.count > count / 2, "live: \(live.count), queued: \(queued.count)")
    }

    @Test("a killed process's unread deliveries are reaped by a live process and reach the offline queue, once, in order", .timeLimit(.minutes(1)))
    func killedProcessIsReaped() async throws {
        let server = try RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration.forTests(url: server.url))
        defer { Task { await redis.shutdown() } }
        let (a, b) = try await (
            BridgeProcess(redisURL: server.url, settings: Self.settings), BridgeProcess(redisURL: server.url, settings: Self.settings)
        )
        let (me, you) = try (ChatDeliveryTests.openUser(a), ChatDeliveryTests.openUser(b))
        let (stopped, _) = try await DeliveryTests.connected(b, you.token)
        defer { Task { await stopped.close() } }

        // B stops reading (still alive for three heartbeats): A routes to its stream.
        b.signal(SIGSTOP)
        for index in 0..<20 { _ = try ChatDeliveryTests.send(a, me, to: you.id, "r\(index)") }
        // (routed in the recipient's partition: B's stream of it)
        let stream = testKeys.nodeStream(b.node, partition: testKeys.layout.partition(ofUser: you.id))
        #expect(try await redis.send("XLEN", stream).integer == 20)
        #expect(try await redis.send("LLEN", testKeys.offlineQueue(you.id)).integer == 0)
        b.signal(SIGKILL)

        _ = try await eventually(within: 20) { try await redis.send("LLEN", testKeys.offlineQueue(you.id)).integer == 20 }
        #expect(try await redis.send("EXISTS", stream).integer == 0)
        #expect(try a.metric("chat_node_stream_reaped_total") == 20)
        #expect(try a.metric("chat_node_stream_rerouted_total") == 20)
        let (socket, beforeWelcome) = try await DeliveryTests.connected(a, you.token)
        #expect(ChatDeliveryTests.texts(from: me.id, in: beforeWelcome) == (0..<20).map { "r\($0)" })
        #expect(ChatDeliveryTests.texts(from: me.id, in: await socket.texts(for: 0.5)).isEmpty)
        await socket.close()
    }

    @Test("a process restarted with its node id routes again what its predecessor left unread", .timeLimit(.minutes(1)))
    func restartedProcessClaimsItsStream() async throws {
        let server = try RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration.forTests(url: server.url))
        defer { Task { await redis.shutdown() } }
        let node = "again-\(UUID().uuidString.prefix(8))"
        // Dead after 9 s, reaped after 18 s: the restart comes long before.
        let slow = ["HEARTBEAT_MS": "3000"]
        let a = try await BridgeProcess(redisURL: server.url, settings: slow)
        var b: BridgeProcess? = try await BridgeProcess(redisURL: server.url, node: node, settings: slow)
        let (me, you) = try (ChatDeliveryTests.openUser(a), ChatDeliveryTests.openUser(a))
        let (killed, _) = try await DeliveryTests.connected(try #require(b), you.token)
        defer { Task { await killed.close() } }

        b?.signal(SIGSTOP)
        for index in 0..<5 { _ = try ChatDeliveryTests.send(a, me, to: you.id, "c\(index)") }
        #expect(try await redis.send("XLEN", testKeys.nodeStream(node, partition: testKeys.layout.partition(ofUser: you.id))).integer == 5)
        b?.signal(SIGKILL)
        _ = b?.waitForExit(timeout: 5)
        b = nil

        // Before anyone would reap it (18 s): the new process claims the five itself.
        let restarted = try await BridgeProcess(redisURL: server.url, node: node, settings: slow)
        _ = try await eventually(within: 10) { try await redis.send("LLEN", testKeys.offlineQueue(you.id)).integer == 5 }
        #expect(try restarted.metric("chat_node_stream_rerouted_total") == 5)
        #expect(try a.metric("chat_node_stream_reaped_total") == 0)
        let (socket, beforeWelcome) = try await DeliveryTests.connected(restarted, you.token)
        #expect(ChatDeliveryTests.texts(from: me.id, in: beforeWelcome) == (0..<5).map { "c\($0)" })
        await socket.close()
    }

    @Test("a process leaving with entries in its stream stays as dead until a live process has reaped them, marked with it", .timeLimit(.minutes(1)))
    func leaveThenReap() async throws {
        let server = try RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration.forTests(url: server.url))
        defer { Task { await redis.shutdown() } }
        let live = DeliveryTests.node(redis)
        let scripts = live.scripts
        let envelope = NodeEnvelope.deliver(to: [ConnectionAddress(user: 7, connection: 3)], message: Array("{}".utf8), sequence: 1)
        // In user 7's partition (the one partition when plain).
        let partition = testKeys.layout.partition(ofUser: 7)
        let nodes = testKeys.nodes(partition: partition)
        func stream(_ node: String) -> String { testKeys.nodeStream(node, partition: partition) }

        // Empty: it leaves at once, stream key and all.
        _ = try await redis.send("ZADD", nodes, 1, "empty")
        _ = try await redis.send("XADD", stream("empty"), "*", "e", "kick 7:3")
        _ = try await redis.send("XTRIM", stream("empty"), "MAXLEN", 0)
        #expect(try await scripts.run(LeaveNodes(keys: testKeys, partition: partition, node: "empty")))
        #expect(try await redis.send("ZSCORE", nodes, "empty").isNull)
        #expect(try await redis.send("EXISTS", stream("empty")).integer == 0)

        // With an entry: scored 0, then reaped by the next heartbeat of a live process.
        _ = try await redis.send("ZADD", nodes, WallClock.milliseconds(), "leaving")
        _ = try await redis.send("XADD", stream("leaving"), "*", "e", envelope.encoded())
        #expect(try await !scripts.run(LeaveNodes(keys: testKeys, partition: partition, node: "leaving")))
        #expect(try await redis.send("ZSCORE", nodes, "leaving").string == "0")
        let beat = try await scripts.run(RecordHeartbeat(
            keys: testKeys, partition: partition, node: live.node, pruneAfterMilliseconds: 3_600_000, reapAfterMilliseconds: 6000, reapBatch: 1000
        ))
        #expect(beat.reaped == 1)
        #expect(beat.backlog == 1, "the reaped entry waits in the live process's stream")
        #expect(try await redis.send("EXISTS", stream("leaving")).integer == 0)
        let moved = try await redis.send("XRANGE", stream(live.node), "-", "+").array ?? []
        #expect(moved.count == 1)
        let fields = moved.first?.array?.last?.array?.compactMap(\.bytes) ?? []
        #expect(fields == [Array("e".utf8), envelope.encoded(), Array("from".utf8), Array("leaving".utf8)])
        // Silent for longer than prune_after and emptied: forgotten.
        _ = try await scripts.run(RecordHeartbeat(keys: testKeys, partition: partition, node: live.node, pruneAfterMilliseconds: 1, reapAfterMilliseconds: 6000, reapBatch: 1000))
        #expect(try await redis.send("ZSCORE", nodes, "leaving").isNull)
    }

    @Test("at most reap_batch entries are reaped per heartbeat, oldest first")
    func reapBatch() async throws {
        let server = try RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration.forTests(url: server.url))
        defer { Task { await redis.shutdown() } }
        let live = DeliveryTests.node(redis)
        // In user 7's partition (the one partition when plain).
        let partition = testKeys.layout.partition(ofUser: 7)
        func stream(_ node: String) -> String { testKeys.nodeStream(node, partition: partition) }
        _ = try await redis.send("ZADD", testKeys.nodes(partition: partition), 1, "dead")
        for index in 0..<5 { _ = try await redis.send("XADD", stream("dead"), "*", "e", "kick 7:\(index + 1)") }
        let call = RecordHeartbeat(keys: testKeys, partition: partition, node: live.node, pruneAfterMilliseconds: 3_600_000, reapAfterMilliseconds: 6000, reapBatch: 3)
        #expect(try await live.scripts.run(call).reaped == 3)
        #expect(try await redis.send("XLEN", stream("dead")).integer == 2)
        let second = try await live.scripts.run(call)
        #expect(second.reaped == 2)
        #expect(second.backlog == 5)
        #expect(try await redis.send("EXISTS", stream("dead")).integer == 0)
        let moved = try await redis.send("XRANGE", stream(live.node), "-", "+").array ?? []
        #expect(moved.compactMap { $0.array?.last?.array?[1].string } == (1...5).map { "kick 7:\($0)" })
    }

    @Test("a process reads its stream in every partition: what each partition routes to it arrives once, in order, and how fast", .timeLimit(.minutes(1)))
    func everyPartitionRead() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let configuration = try RedisConfiguration.forTests(url: TestEnvironment.redisURL())
        let sending = DeliveryTests.node(redis)
        let receiving = DeliveryTests.node(redis)
        let partitions = testKeys.layout.partitions
        let readers = (0..<partitions).map { _ in
            RedisClient(configuration: NodeStreamListener.readerConfiguration(configuration))
        }
        let listener = NodeStreamListener(readers: readers, delivery: receiving, logger: .init(label: "test"))
        let listening = Task { try await listener.run() }
        defer {
            listening.cancel()
            Task { for reader in readers { await reader.shutdown() } }
        }
        await NodeHeartbeat(delivery: receiving, logger: .init(label: "test")).beat()
        // Alive while the rounds take (a process beats every heartbeat: 4 × 50 rounds on a
        // loaded machine outlast the 1.5 s after which a silent process is dead).
        let beating = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .milliseconds(DeliveryTests.heartbeatMilliseconds))
                await NodeHeartbeat(delivery: receiving, logger: .init(label: "test")).beat()
            }
        }
        defer { beating.cancel() }
        // One user per partition, "connected" to the receiving process by a connection it
        // does not hold: its listener routes each delivery again, into the offline queue,
        // where the test takes it (BLPOP) the moment it arrives.
        let base = Int.random(in: 1_000_000...9_999_999) * partitions
        let users = (0..<partitions).map { base + $0 }
        for user in users {
            _ = try await redis.send("SET", testKeys.online(user), "\(receiving.node):999999", "PX", 60_000)
        }
        let waiter = RedisClient(configuration: NodeStreamListener.readerConfiguration(configuration))
        defer { Task { await waiter.shutdown() } }
        var latencies: [Duration] = []
        let clock = ContinuousClock()
        let rounds = 50 * partitions
        for index in 0..<rounds {
            let user = users[index % partitions]
            let message = DeliveryTests.message("m\(index)", to: user)
            let start = clock.now
            let route = try await sending.deliver(message, to: user)
            #expect(route == .routed(node: receiving.node))
            let popped = try await waiter.send("BLPOP", testKeys.offlineQueue(user), "2").array?.last?.bytes
            latencies.append(clock.now - start)
            #expect(popped == message, "message \(index) to user \(user)")
        }
        for user in users {
            #expect(try await redis.send("LLEN", testKeys.offlineQueue(user)).integer == 0, "each once")
        }
        beating.cancel()
        let sorted = latencies.sorted()
        let median = sorted[sorted.count / 2]
        let p99 = sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
        print("delivery through the node streams, \(partitions) partition(s), \(rounds) messages: median \(median), p99 \(p99)")
        // A heartbeat is one node_heartbeat run per partition, side by side.
        let heartbeat = NodeHeartbeat(delivery: receiving, logger: .init(label: "test"))
        var beats: [Duration] = []
        for _ in 0..<20 {
            let start = clock.now
            await heartbeat.beat()
            beats.append(clock.now - start)
        }
        print("a heartbeat, \(partitions) partition(s): median \(beats.sorted()[beats.count / 2])")
    }

    @Test("stream entry ids: parsed, ordered as Redis orders them, and the next one for XTRIM MINID")
    func entryIDs() {
        #expect(StreamEntryID("1765000000000-5") == StreamEntryID(milliseconds: 1_765_000_000_000, sequence: 5))
        #expect(StreamEntryID("12") == nil)
        #expect(StreamEntryID("a-1") == nil)
        #expect(StreamEntryID("9-10")! > StreamEntryID("9-9")!)
        #expect(StreamEntryID("10-0")! > StreamEntryID("9-99")!)
        #expect(StreamEntryID("9-3")!.successor.description == "9-4")
        #expect(StreamEntryID(milliseconds: 9, sequence: .max).successor.description == "10-0")
    }
}
