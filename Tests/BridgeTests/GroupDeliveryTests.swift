import Foundation
import Model
import RedisClient
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// Group messages end to end, with real bridge processes: the fan-out reaches every
/// member but the sender exactly once, live on either process or from the offline queue.
@Suite("Group messages across bridge processes", .serialized, .offCooperativePool)
struct GroupDeliveryTests {
    typealias Account = (id: Int, token: String, username: String)

    /// The message objects with `id` among the frames.
    static func copies(of id: String, in frames: [String]) -> Int {
        frames.filter { text in
            let frame = GatewayTests.object(text)
            return frame["type"] as? String == "singleChat" && (frame["data"] as? [String: Any])?["id"] as? String == id
        }.count
    }

    /// Frames until one carries message `id` (or `seconds` passed).
    static func frames(_ socket: WebSocketTestClient, until id: String, within seconds: Double = 15) async -> [String] {
        var frames: [String] = []
        let deadline = Date().addingTimeInterval(seconds)
        while copies(of: id, in: frames) == 0, deadline.timeIntervalSinceNow > 0 {
            guard let text = try? await socket.nextText(within: deadline.timeIntervalSinceNow) else { break }
            frames.append(text)
        }
        return frames
    }

    /// How many copies of message `id` each socket got: until the first, then whatever
    /// else arrives within half a second (a second copy would).
    static func received(_ sockets: [WebSocketTestClient], id: String) async -> [Int] {
        await withTaskGroup(of: (Int, Int).self) { tasks in
            for (index, socket) in sockets.enumerated() {
                tasks.addTask {
                    let first = await frames(socket, until: id)
                    let more = await socket.texts(for: 0.5)
                    return (index, copies(of: id, in: first + more))
                }
            }
            var counts = Array(repeating: 0, count: sockets.count)
            for await (index, count) in tasks { counts[index] = count }
            return counts
        }
    }

    /// The deliveries published to a process's streams: the numbers of the last one of
    /// each partition, summed (one number on one Redis).
    static func numbered(_ redis: RedisClient, _ bridge: BridgeProcess) async throws -> Int {
        var sum = 0
        for partition in 0..<testKeys.layout.partitions {
            sum += Int(try await redis.send("HGET", testKeys.nodeDeliveries(partition: partition), bridge.node).string ?? "0") ?? -1
        }
        return sum
    }

    /// The partitions of `users`: one publish to a process per partition of its recipients.
    static func partitions(of users: [Account]) -> Int {
        Set(users.map { testKeys.layout.partition(ofUser: $0.id) }).count
    }

    static func queuedCopies(_ redis: RedisClient, _ user: Int, id: String) async throws -> Int {
        // group messages are queued by reference (lib/offline_queue.lua): resolved here
        try await OfflineQueueTests.messages(redis, user).filter { $0?.contains(#""id":"\#(id)""#) == true }.count
    }

    @Test("200 members on two processes, a third offline: each member but the sender gets one copy; one stream entry", .timeLimit(.minutes(3)))
    func twoHundredMembers() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let (a, b) = try await (DeliveryTests.bridge(), DeliveryTests.bridge())
        var members: [Account] = []
        for _ in 0..<200 { members.append(try a.register()) }
        let owner = members[0]
        for member in members.dropFirst() { try await MessageTests.befriend(redis, owner: owner.id, friend: member.id) }
        let rows = members.dropFirst().map { owner.id * 1000 + $0.id }
        let created = try a.post("/api/chat/group/create", ["userIds": rows], token: owner.token)
        #expect(created.status == 200, "\(created)")
        let gid = Int(try #require(try await redis.send("ZREVRANGE", testKeys.groupsOfUser(owner.id), 0, 0).array?.first?.string.flatMap { Int($0) }))
        #expect(try await redis.send("HLEN", testKeys.groupMembers(gid)).integer == 200)
        for member in members { _ = try await redis.send("DEL", testKeys.offlineQueue(member.id)) }

        // the sender and two thirds of the others connected, alternating processes; the rest offline
        let online = Array(members[1...133])
        let offline = Array(members[134...])
        let (senderSocket, _) = try await DeliveryTests.connected(a, owner.token)
        var sockets: [WebSocketTestClient] = []
        for (index, member) in online.enumerated() {
            sockets.append(try await DeliveryTests.connected(index.isMultiple(of: 2) ? a : b, member.token).0)
        }

        let mark = try await ShardedStream.messages.mark(redis)
        let numberedForA = try await Self.numbered(redis, a)
        let sent = try b.post(
            "/api/chat/socket/sendmessage", ["sendto_id": gid, "chatType": "group", "type": "text", "data": "大家好"], token: owner.token
        )
        #expect(sent.status == 200, "\(sent)")
        let id = try #require((sent.body["data"] as? [String: Any])?["id"] as? String)
        let counts = await Self.received(sockets, id: id)
        #expect(counts == Array(repeating: 1, count: online.count), "\(counts)")
        // one publish to A (per partition of A's recipients), numbered
        let onA = online.enumerated().filter { $0.offset.isMultiple(of: 2) }.map(\.element)
        let onB = online.enumerated().filter { !$0.offset.isMultiple(of: 2) }.map(\.element)
        #expect(try await Self.numbered(redis, a) == numberedForA + Self.partitions(of: onA))
        for member in offline { #expect(try await Self.queuedCopies(redis, member.id, id: id) == 1) }
        for member in online { #expect(try await Self.queuedCopies(redis, member.id, id: id) == 0) }
        #expect(Self.copies(of: id, in: await senderSocket.texts(for: 0.3)) == 0)
        #expect(try await Self.queuedCopies(redis, owner.id, id: id) == 0)
        #expect(try await MessageTests.streamEntries(redis, after: mark, id: id).count == 1)
        #expect(try await redis.send("LLEN", testKeys.groupHistory(gid)).integer == 1)

        // the WebSocket send frame: a member on B writes to the group
        let writer = sockets[1]
        try await writer.send(text: #"{"type":"send","cid":"g1","message":{"sendto_id":\#(gid),"chatType":"group","type":"text","data":"帧"}}"#)
        let ack = try await ChatDeliveryTests.acknowledgement(writer)
        #expect(ack["msg"] as? String == "ok" && ack["cid"] as? String == "g1")
        let frameID = try #require((ack["data"] as? [String: Any])?["id"] as? String)
        let others = sockets.enumerated().filter { $0.offset != 1 }.map(\.element)
        #expect(await Self.received(others, id: frameID) == Array(repeating: 1, count: others.count))
        #expect(Self.copies(of: frameID, in: await Self.frames(senderSocket, until: frameID)) == 1)
        for member in offline.prefix(5) { #expect(try await Self.queuedCopies(redis, member.id, id: frameID) == 1) }
        // the same client id again: the same message acknowledged, delivered and stored once
        try await writer.send(text: #"{"type":"send","cid":"g1","message":{"sendto_id":\#(gid),"chatType":"group","type":"text","data":"帧"}}"#)
        let again = try await ChatDeliveryTests.acknowledgement(writer)
        #expect((again["data"] as? [String: Any])?["id"] as? String == frameID && (again["data"] as? [String: Any])?["data"] as? String == "帧")
        #expect(Self.copies(of: frameID, in: await sockets[0].texts(for: 0.5)) == 0)
        #expect(try await Self.queuedCopies(redis, offline[0].id, id: frameID) == 1)
        #expect(try await redis.send("LLEN", testKeys.groupHistory(gid)).integer == 2)
        // a notice (the rename) takes the same one-publish-per-process path (deliver_many.lua)
        let numberedForB = try await Self.numbered(redis, b)
        let renamed = try a.post("/api/chat/groupUpdateName", ["id": gid, "name": "改名了"], token: owner.token)
        #expect(renamed.status == 200, "\(renamed)")
        let notices = await withTaskGroup(of: Int.self) { tasks in
            for socket in sockets {
                tasks.addTask {
                    var frames: [String] = []
                    let deadline = Date().addingTimeInterval(15)
                    while !frames.contains(where: { $0.contains("群名称修改为：改名了") }), deadline.timeIntervalSinceNow > 0 {
                        guard let text = try? await socket.nextText(within: deadline.timeIntervalSinceNow) else { break }
                        frames.append(text)
                    }
                    frames += await socket.texts(for: 0.3)
                    return frames.filter { $0.contains("群名称修改为：改名了") }.count
                }
            }
            return await tasks.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(notices == Array(repeating: 1, count: sockets.count))
        #expect(try await Self.numbered(redis, b) == numberedForB + Self.partitions(of: onB))
        // no local push waited for a number that never came
        #expect(try a.metric("chat_delivery_order_timeouts_total") == 0)
        #expect(try b.metric("chat_delivery_order_timeouts_total") == 0)
        let queuedNotices = try await OfflineQueueTests.messages(redis, offline[0].id)
        #expect(queuedNotices.filter { $0?.contains("群名称修改为：改名了") == true }.count == 1)

        // not a member: refused on the socket
        let outsider = try a.register()
        let (outsiderSocket, _) = try await DeliveryTests.connected(b, outsider.token)
        try await outsiderSocket.send(text: #"{"type":"send","cid":"g2","message":{"sendto_id":\#(gid),"chatType":"group","type":"text","data":"x"}}"#)
        let refused = try await ChatDeliveryTests.acknowledgement(outsiderSocket)
        #expect(refused["msg"] as? String == "fail" && refused["data"] as? String == "您不在群里，无法发消息")

        for socket in sockets + [senderSocket, outsiderSocket] { await socket.close() }
    }

}
