import ChatScripts
import Foundation
import Model
import RedisClient
import Testing
import TestSupport

@testable import Bridge
@testable import ChatGateway

/// A group send as steps (`GroupSendSteps`): the sender's partition, the group's, each
/// other member partition's, the last step; a crash after any step is finished by the
/// repairer, once; a retried client id answers the same message; members changed between
/// the steps are refreshed without counting the send rate twice; a refusal leaves nothing
/// visible. The users and the group are written straight into Redis in the run's layout:
/// the sender in partition 1, the group in 2, members in 1, 2, 3 and 4 (distinct
/// partitions on any layout of more than four; 4 ≡ 0 on four partitions; on one Redis the
/// steps still run, on the plain names). `make test`'s phases run it on one Redis, with
/// `REDIS_PARTITIONS=4`, and on a Redis Cluster (each step refused there if it named two slots).
@Suite("Group send steps", .serialized, .offCooperativePool)
struct GroupSendStepTests {
    struct Fixture {
        let redis: RedisClient
        let dependencies: BridgeApplication.Dependencies
        let sender: Int
        let group: Int
        /// The members but the sender, one in each of partitions 1, 2, 3 and 4.
        let others: [Int]
        var keys: RedisKeys { testKeys }
        var steps: GroupSendSteps { dependencies.sender.groupSteps }

        init() async throws {
            redis = try TestBridge.sharedRedis()
            dependencies = await TestBridge.dependencies(redis: redis)
            let base = Int.random(in: 1_000_000...9_999_999) * 12
            sender = base + 1
            others = [base + 13, base + 2, base + 3, base + 4]
            group = base + 2
            for user in [sender] + others {
                _ = try await redis.send(
                    "HSET", testKeys.user(user), "id", String(user), "status", "1", "role", "user", "nickname", "n\(user)",
                    "username", "u\(user)", "avatar", "a\(user)", "uuid", "uuid-\(user)", "userset", "{}"
                ).throwingOnError()
                _ = try await redis.send("SET", testKeys.userToken(user), "token-\(user)").throwingOnError()
                try await setMember(user, status: 1)
            }
            _ = try await redis.send(
                "HSET", testKeys.group(group), "id", String(group), "status", "1", "name", "G\(group)", "avatar", "ga",
                "user_id", String(sender), "invite_confirm", "0"
            ).throwingOnError()
            _ = try await redis.send("SET", testKeys.groupMembersVersion(group), "1").throwingOnError()
        }

        func shutdown() async { await redis.shutdown() }

        func setMember(_ user: Int, status: Int) async throws {
            _ = try await redis.send(
                "HSET", keys.groupMembers(group), String(user),
                #"{"id":\#(user),"group_id":\#(group),"user_id":\#(user),"nickname":"","avatar":"","status":\#(status)}"#
            ).throwingOnError()
        }

        func send(_ text: String, clientID: String? = nil, id: String = UUID().uuidString.lowercased(), token: String? = nil) -> SendGroupMessage {
            SendGroupMessage(
                keys: keys, messageID: id, sender: sender, group: group, type: "text", data: Array("\"\(text)\"".utf8),
                options: Array("{}".utf8), uncheckedToken: token ?? "token-\(sender)", clientID: clientID,
                recipients: .unknown, settings: steps.settings
            )
        }

        /// The message ids in a user's offline queue (bodies stored once per partition resolved).
        func queued(_ user: Int) async throws -> [String] {
            try await OfflineQueueTests.messages(redis, user).compactMap { body in
                body.flatMap { try? JSONParser.parse(Array($0.utf8)).objectValue?["id"]?.stringValue }
            }
        }

        func history() async throws -> [String] {
            (try await redis.send("LRANGE", keys.groupHistory(group), 0, -1).array ?? []).compactMap {
                $0.bytes.flatMap { try? JSONParser.parse($0).objectValue?["id"]?.stringValue }
            }
        }

        /// How many entries of the group partition's messages shard carry `id` (of `kind`).
        func streamed(_ id: String, kind: String = "message") async throws -> Int {
            let shard = keys.stream(StreamName.messages, partition: keys.layout.partition(ofGroup: group))
            let entries = try await redis.send("XREVRANGE", shard, "+", "-", "COUNT", 5000).array ?? []
            return entries.filter { entry in
                let fields = (entry.array?.last?.array ?? []).compactMap(\.string)
                return fields.contains(id) && fields.contains(kind)
            }.count
        }

        /// Whether send `id` has its `pending` record (with its deadline). Only this test's
        /// sends: suites beside it send to groups in the same partitions.
        func isPending(_ id: String) async throws -> Bool {
            let partition = keys.layout.partition(ofUser: sender)
            let deadline = try await redis.send("ZSCORE", keys.pendingGroupSends(partition: partition), id)
            let record = try await redis.send("EXISTS", keys.pendingGroupSend(id, partition: partition)).integer
            return !deadline.isNull || record != 0
        }

        /// Every other member's queue holds `id` once; the sender's does not.
        func expectEveryMemberOnce(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            for user in others {
                #expect(try await queued(user) == [id], "member \(user)", sourceLocation: sourceLocation)
            }
            #expect(try await queued(sender) == [], sourceLocation: sourceLocation)
            #expect(try await history() == [id], sourceLocation: sourceLocation)
            #expect(try await streamed(id) == 1, sourceLocation: sourceLocation)
        }

        func repairer() -> PendingStepRepairer {
            PendingStepRepairer(
                repairs: [GroupSendRepair(sender: dependencies.sender)], partitions: testKeys.layout.partitions,
                interval: .seconds(1), logger: .init(label: "test")
            )
        }

        /// The group's members as the steps want them, read now.
        func members() async throws -> SendGroupMessage.Recipients {
            let version = try await redis.send("GET", keys.groupMembersVersion(group)).string ?? ""
            return SendGroupMessage.Recipients(version: version, ids: [sender] + others, keys: keys)
        }
    }

    static func id(of message: [UInt8]) -> String? {
        (try? JSONParser.parse(message))?.objectValue?["id"]?.stringValue
    }

    @Test("accepted: the one-run script's message object; history and the group's shard once, every member's queue once, the record gone")
    func accepted() async throws {
        let fixture = try await Fixture()
        defer { Task { await fixture.shutdown() } }
        let send = fixture.send("大家好")
        let outcome = try await fixture.steps.send(send)
        guard case .accepted(let message, 0) = outcome else { Issue.record("\(outcome)"); return }
        let created = try #require(JSONParser.parse(message).objectValue?["create_time"]?.integerValue)
        let (s, g) = (fixture.sender, fixture.group)
        let expected = #"{"id":"\#(send.messageID)","from_id":\#(s),"from_name":"n\#(s)","from_avatar":"a\#(s)","to_id":\#(g),"to_name":"G\#(g)","to_avatar":"ga","chatType":"group","type":"text","data":"大家好","options":{},"create_time":\#(created),"isremove":0,"sendUUid":"uuid-\#(s)","group":{"id":\#(g),"name":"G\#(g)","avatar":"ga","user_id":\#(s),"remark":null,"invite_confirm":0}}"#
        #expect(String(decoding: message, as: UTF8.self) == expected)
        try await fixture.expectEveryMemberOnce(send.messageID)
        #expect(try await fixture.isPending(send.messageID) == false)
        // Nothing left for the repairer (it may finish other suites' sends under way).
        _ = await fixture.repairer().repairExpired(now: Int64.max / 2)
        try await fixture.expectEveryMemberOnce(send.messageID)
    }

    @Test("through the sender: the API's answer, a retried client id answers the same message and delivers nothing again")
    func throughTheSender() async throws {
        let fixture = try await Fixture()
        defer { Task { await fixture.shutdown() } }
        let request = try SendRequest(RequestParameters(body: [
            "sendto_id": .integer(Int64(fixture.group)), "chatType": "group", "type": "text", "data": "帧",
        ]))
        let from = MessageSender.Sender(user: fixture.sender, uncheckedToken: "token-\(fixture.sender)")
        let clientID = "c-\(UUID().uuidString)"
        let first = try await fixture.dependencies.sender.send(request, from: from, clientID: clientID)
        let id = try #require(Self.id(of: first))
        try await fixture.expectEveryMemberOnce(id)
        let again = try await fixture.dependencies.sender.send(request, from: from, clientID: clientID)
        #expect(again == first)
        try await fixture.expectEveryMemberOnce(id)
        #expect(try await fixture.redis.send("GET", fixture.keys.sentByClientID(fixture.sender, clientID)).string == id)
        // Refusals keep the one-run script's texts.
        let outsider = MessageSender.Sender(user: fixture.others[0], uncheckedToken: "wrong")
        await #expect(throws: APIFailure(AuthRefusal.invalidToken)) {
            _ = try await fixture.dependencies.sender.send(request, from: outsider)
        }
        try await fixture.setMember(fixture.others[0], status: 0)
        let muted = MessageSender.Sender(user: fixture.others[0], uncheckedToken: nil)
        await #expect(throws: APIFailure(SendRefusal.notInGroup)) {
            _ = try await fixture.dependencies.sender.send(request, from: muted)
        }
        #expect(try await fixture.history() == [id])
        #expect(try await fixture.isPending(id) == false)
    }

    @Test("a crash after the group's step: the group partition's members have it; the repairer gives every other member it once")
    func crashAfterApply() async throws {
        let fixture = try await Fixture()
        defer { Task { await fixture.shutdown() } }
        let clientID = "c-\(UUID().uuidString)"
        let send = fixture.send("half done", clientID: clientID)
        let begin = BeginGroupSend(keys: fixture.keys, send: send)
        guard case .pending(let decoded) = try await fixture.dependencies.scripts.run(begin) else { Issue.record("not pending"); return }
        let facts = begin.facts(of: decoded)
        let apply = ApplyGroupSend(
            keys: fixture.keys, messageID: send.messageID, facts: facts, recipients: try await fixture.members(),
            settings: send.settings
        )
        guard case .sent(let message, _, _) = try await fixture.dependencies.scripts.run(apply) else { Issue.record("not sent"); return }
        let groupPartition = fixture.keys.layout.partition(ofGroup: fixture.group)
        for user in fixture.others {
            let reached = fixture.keys.layout.partition(ofUser: user) == groupPartition
            #expect(try await fixture.queued(user) == (reached ? [send.messageID] : []))
        }
        // Under way: a retry with the client id now would resume it; the repairer does first.
        #expect(await fixture.repairer().repairExpired(now: 0) == 0)
        #expect(try await fixture.isPending(send.messageID))
        #expect(await fixture.repairer().repairExpired(now: Int64.max / 2) >= 1)
        try await fixture.expectEveryMemberOnce(send.messageID)
        #expect(try await fixture.isPending(send.messageID) == false)
        #expect(try await fixture.redis.send("GET", fixture.keys.sentByClientID(fixture.sender, clientID)).string == send.messageID)
        // The group's step again: the same message, nothing written or routed again.
        #expect(try await fixture.dependencies.scripts.run(apply) == .applied(message: message))
        // A member partition's step again: nothing.
        for part in try await fixture.members().parts where part.partition != groupPartition {
            let step = DeliverGroupSend(
                keys: fixture.keys, messageID: send.messageID, message: message, sender: fixture.sender, members: part,
                settings: send.settings
            )
            #expect(try await fixture.dependencies.scripts.run(step) == nil)
        }
        try await fixture.expectEveryMemberOnce(send.messageID)
        // A retry now answers the message, from the group's history.
        let retried = try await fixture.steps.send(fixture.send("retry", clientID: clientID))
        #expect(retried == .duplicate(message: message))
        try await fixture.expectEveryMemberOnce(send.messageID)
    }

    @Test("a crash after the sender's step: a retry with the client id finishes the SAME message, once; nothing visible before")
    func retryResumes() async throws {
        let fixture = try await Fixture()
        defer { Task { await fixture.shutdown() } }
        let clientID = "c-\(UUID().uuidString)"
        let send = fixture.send("left pending", clientID: clientID)
        guard case .pending = try await fixture.dependencies.scripts.run(BeginGroupSend(keys: fixture.keys, send: send)) else {
            Issue.record("not pending"); return
        }
        #expect(try await fixture.isPending(send.messageID))
        #expect(try await fixture.history() == [])
        for user in fixture.others { #expect(try await fixture.queued(user) == []) }
        // The retry carries another message id: the first one's is what it finishes.
        let retried = try await fixture.steps.send(fixture.send("left pending", clientID: clientID))
        guard case .duplicate(let message) = retried else { Issue.record("\(retried)"); return }
        #expect(Self.id(of: message) == send.messageID)
        try await fixture.expectEveryMemberOnce(send.messageID)
        #expect(try await fixture.isPending(send.messageID) == false)
        _ = await fixture.repairer().repairExpired(now: Int64.max / 2)
        try await fixture.expectEveryMemberOnce(send.messageID)
    }

    @Test("members changed between the steps: the group's step answers stale, runs again with the current members, the rate counted once")
    func staleBetweenSteps() async throws {
        let fixture = try await Fixture()
        defer { Task { await fixture.shutdown() } }
        // One send a second, no burst: a second sender's step would be refused.
        let settings = SendSettings(
            clientIDWindow: 60, historyCap: 1000, streamCap: 10000, node: "test-node", deadAfter: 15_000, queueCap: 1000,
            queueByteCap: 1 << 20, sendRate: 1, sendBurst: 1
        )
        let cache = GroupRecipients()
        let steps = GroupSendSteps(
            scripts: fixture.dependencies.scripts, delivery: fixture.dependencies.delivery, settings: settings, recipients: cache,
            replicaAcknowledgement: nil
        )
        // Cached before the last member joined (version 1); the version moves on.
        cache.store(SendGroupMessage.Recipients(version: "1", ids: [fixture.sender] + fixture.others.dropLast(), keys: fixture.keys), for: fixture.group)
        _ = try await fixture.redis.send("SET", fixture.keys.groupMembersVersion(fixture.group), "2")
        var send = fixture.send("after a join")
        send.settings = settings
        let started = ContinuousClock.now
        let outcome = try await steps.send(send)
        let firstDone = ContinuousClock.now
        guard case .accepted = outcome else { Issue.record("\(outcome)"); return }
        try await fixture.expectEveryMemberOnce(send.messageID)
        #expect(cache.members(of: fixture.group).version == "2")
        // The bucket took one send (between `started` and `firstDone`): the next one within
        // the second is over the rate; one a second after it is not (on a machine so busy
        // that neither can be told, nothing is asserted).
        var next = fixture.send("too fast")
        next.settings = settings
        let beforeSecond = ContinuousClock.now
        let second = try await steps.send(next)
        if ContinuousClock.now - started < .milliseconds(950) {
            #expect(second == .refused(.rate))
        } else if beforeSecond - firstDone > .milliseconds(1100), case .refused(let refusal) = second {
            Issue.record("refused \(refusal) after the bucket refilled")
        }
    }

    @Test("refused by the group's step: nothing visible to anyone, the client id forgotten, the record gone")
    func refusedByGroup() async throws {
        let fixture = try await Fixture()
        defer { Task { await fixture.shutdown() } }
        try await fixture.setMember(fixture.sender, status: 0)
        let send = fixture.send("muted", clientID: "c-\(UUID().uuidString)")
        #expect(try await fixture.steps.send(send) == .refused(.notMember))
        _ = try await fixture.redis.send("HSET", fixture.keys.group(fixture.group), "status", "0")
        try await fixture.setMember(fixture.sender, status: 1)
        #expect(try await fixture.steps.send(fixture.send("locked")) == .refused(.group))
        #expect(try await fixture.history() == [])
        for user in fixture.others { #expect(try await fixture.queued(user) == []) }
        #expect(try await fixture.streamed(send.messageID) == 0)
        #expect(try await fixture.redis.send("EXISTS", fixture.keys.sentByClientID(fixture.sender, send.clientID!)).integer == 0)
        #expect(try await fixture.isPending(send.messageID) == false)
        // The sender's own refusals: nothing recorded.
        let refused = fixture.send("x", token: "wrong")
        #expect(try await fixture.steps.send(refused) == .refused(.token))
        #expect(try await fixture.isPending(refused.messageID) == false)
    }

    @Test("group revoke: the stored copy in the group's partition, the revoke on its shard; the notice to every member once, per partition")
    func revoke() async throws {
        let fixture = try await Fixture()
        defer { Task { await fixture.shutdown() } }
        let send = fixture.send("撤回我")
        guard case .accepted = try await fixture.steps.send(send) else { Issue.record("not accepted"); return }
        for user in [fixture.sender] + fixture.others { _ = try await fixture.redis.send("DEL", fixture.keys.offlineQueue(user)) }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let request = try RevokeRequest(RequestParameters(body: [
            "to_id": .integer(Int64(fixture.group)), "to_name": "G", "to_avatar": "https://example.com/a.png",
            "id": .string(send.messageID), "chatType": "group", "create_time": .integer(now),
        ]), now: now)
        let me = try #require(UserRow(hash: [
            "id": String(fixture.sender), "uuid": "uuid-\(fixture.sender)", "username": "u\(fixture.sender)", "role": "user",
            "nickname": "n\(fixture.sender)", "status": "1", "create_time": "2026-01-01 00:00:00",
        ]))
        let notice = try await fixture.dependencies.revoker.revoke(request, by: me, now: now)
        let noticeID = (try JSONParser.parse(notice)).objectValue?["id"]?.stringValue
        #expect(noticeID == send.messageID)
        let stored = try await fixture.redis.send("LINDEX", fixture.keys.groupHistory(fixture.group), 0).bytes
        #expect(stored.flatMap { try? JSONParser.parse($0).objectValue?["isremove"]?.integerValue } == 1)
        #expect(try await fixture.streamed(send.messageID, kind: "revoke") == 1)
        for user in [fixture.sender] + fixture.others { #expect(try await fixture.queued(user) == [send.messageID], "\(user)") }
    }

    @Test("two bridge processes: members of every partition, live on either process or offline, get it once; the WebSocket retry answers the same", .timeLimit(.minutes(2)))
    func acrossProcesses() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let (a, b) = (try await DeliveryTests.bridge(), try await DeliveryTests.bridge())
        // Registered ids are consecutive: twelve accounts span four partitions (of four) three times.
        var accounts: [GroupDeliveryTests.Account] = []
        for _ in 0..<12 { accounts.append(try a.register()) }
        let owner = accounts[0]
        // An id no group of the other suites has (they share this Redis); partition 2.
        let group = Int.random(in: 1_000_000...9_999_999) * 12 + 2
        _ = try await redis.send(
            "HSET", testKeys.group(group), "id", String(group), "status", "1", "name", "跨区", "avatar", "ga",
            "user_id", String(owner.id), "invite_confirm", "0"
        ).throwingOnError()
        for account in accounts {
            _ = try await redis.send(
                "HSET", testKeys.groupMembers(group), String(account.id),
                #"{"id":\#(account.id),"group_id":\#(group),"user_id":\#(account.id),"nickname":"","avatar":"","status":1}"#
            ).throwingOnError()
            _ = try await redis.send("DEL", testKeys.offlineQueue(account.id))
        }
        _ = try await redis.send("SET", testKeys.groupMembersVersion(group), "1").throwingOnError()
        // The owner and eight members connected, alternating processes; three offline.
        let (ownerSocket, _) = try await DeliveryTests.connected(b, owner.token)
        let online = Array(accounts[1...8])
        let offline = Array(accounts[9...])
        var sockets: [WebSocketTestClient] = []
        for (index, member) in online.enumerated() {
            sockets.append(try await DeliveryTests.connected(index.isMultiple(of: 2) ? a : b, member.token).0)
        }
        let mark = try await ShardedStream.messages.mark(redis)
        let frame = #"{"type":"send","cid":"gx","message":{"sendto_id":\#(group),"chatType":"group","type":"text","data":"跨进程"}}"#
        try await ownerSocket.send(text: frame)
        let ack = try await ChatDeliveryTests.acknowledgement(ownerSocket)
        #expect(ack["msg"] as? String == "ok", "\(ack)")
        let id = try #require((ack["data"] as? [String: Any])?["id"] as? String)
        #expect(await GroupDeliveryTests.received(sockets, id: id) == Array(repeating: 1, count: online.count))
        for member in offline { #expect(try await GroupDeliveryTests.queuedCopies(redis, member.id, id: id) == 1) }
        for member in online + [owner] { #expect(try await GroupDeliveryTests.queuedCopies(redis, member.id, id: id) == 0) }
        #expect(try await MessageTests.streamEntries(redis, after: mark, id: id).count == 1)
        // The same client id again: the same message, nothing delivered again.
        try await ownerSocket.send(text: frame)
        let again = try await ChatDeliveryTests.acknowledgement(ownerSocket)
        #expect((again["data"] as? [String: Any])?["id"] as? String == id)
        #expect(GroupDeliveryTests.copies(of: id, in: await sockets[0].texts(for: 0.5)) == 0)
        for member in offline { #expect(try await GroupDeliveryTests.queuedCopies(redis, member.id, id: id) == 1) }
        #expect(try await redis.send("LLEN", testKeys.groupHistory(group)).integer == 1)
        #expect(try a.metric("chat_delivery_order_timeouts_total") == 0)
        #expect(try b.metric("chat_delivery_order_timeouts_total") == 0)
        for socket in sockets + [ownerSocket] { await socket.close() }
    }
}
