import ChatScripts
import Foundation
import LuaScripts
import Logging
import Model
import RedisClient
import Testing
import TestSupport

@testable import Bridge
@testable import ChatGateway

/// A single send between users of two partitions, as steps (`SingleSendSteps`): the
/// recipient's refusal leaves nothing visible and gives the quota back; a crash after any
/// step is finished by the repairer, once; the recipient's step run twice changes nothing.
/// The users are written straight into Redis in the run's layout, in partitions 1 and 2
/// (distinct on any layout of more than two partitions; on one Redis the steps still run,
/// on the plain names).
@Suite("Single send steps", .serialized)
struct SingleSendStepTests {
    struct Fixture {
        let redis: RedisClient
        let dependencies: BridgeApplication.Dependencies
        let sender: Int
        let recipient: Int
        var steps: SingleSendSteps { dependencies.sender.steps }
        var keys: RedisKeys { testKeys }

        init() async throws {
            redis = try TestBridge.sharedRedis()
            dependencies = await TestBridge.dependencies(redis: redis)
            let base = Int.random(in: 1_000_000...9_999_999) * 12
            sender = base + 1
            recipient = base + 2
            for user in [sender, recipient] {
                _ = try await redis.send(
                    "HSET", testKeys.user(user), "id", String(user), "status", "1", "role", "user", "nickname", "n\(user)",
                    "username", "u\(user)", "avatar", "a\(user)", "uuid", "uuid-\(user)", "userset", "{}"
                )
                _ = try await redis.send("SET", testKeys.userToken(user), "token-\(user)")
            }
        }

        func shutdown() async { await redis.shutdown() }

        func send(_ text: String, clientID: String? = nil, id: String = UUID().uuidString.lowercased()) -> SendSingleMessage {
            SendSingleMessage(
                keys: keys, messageID: id, sender: sender, recipient: recipient, type: "text",
                data: Array("\"\(text)\"".utf8), options: Array("{}".utf8), uncheckedToken: "token-\(sender)",
                clientID: clientID, isAutoReply: false, settings: steps.settings
            )
        }

        /// The message ids in a history list.
        func ids(in history: String) async throws -> [String] {
            (try await redis.send("LRANGE", history, 0, -1).array ?? []).compactMap {
                $0.bytes.flatMap { try? JSONParser.parse($0).objectValue?["id"]?.stringValue }
            }
        }

        var senderHistory: String { keys.singleHistory(owner: sender, peer: recipient) }
        var recipientHistory: String { keys.singleHistory(owner: recipient, peer: sender) }

        /// How many entries of the recipient partition's messages shard carry `id`.
        func streamed(_ id: String) async throws -> Int {
            let shard = keys.stream(StreamName.messages, partition: keys.layout.partition(ofUser: recipient))
            let entries = try await redis.send("XREVRANGE", shard, "+", "-", "COUNT", 2000).array ?? []
            return entries.filter { entry in
                let fields = entry.array?.last?.array ?? []
                return stride(from: 0, to: fields.count - 1, by: 2).contains { fields[$0].string == "id" && fields[$0 + 1].string == id }
            }.count
        }

        /// The ids of the messages in the recipient's offline queue.
        func queued() async throws -> [String] { try await ids(in: keys.offlineQueue(recipient)) }

        func pendingCount() async throws -> Int {
            Int(try await redis.send("ZCARD", keys.pendingSends(partition: keys.layout.partition(ofUser: sender))).integer ?? -1)
        }

        func repairer() -> PendingStepRepairer {
            PendingStepRepairer(
                repairs: [SingleSendRepair(sender: dependencies.sender)], partitions: testKeys.layout.partitions,
                interval: .seconds(1), logger: .init(label: "test")
            )
        }
    }

    /// `.accepted`'s message id, or nil.
    static func acceptedID(_ outcome: SingleSendSteps.Outcome) -> String? {
        guard case .accepted(let message, _, _) = outcome else { return nil }
        return (try? JSONParser.parse(message))?.objectValue?["id"]?.stringValue
    }

    @Test("accepted: both histories, the recipient's queue and stream shard once; the record gone")
    func accepted() async throws {
        let fixture = try await Fixture()
        defer { Task { await fixture.shutdown() } }
        let send = fixture.send("hello")
        let outcome = try await fixture.steps.send(send)
        guard case .accepted(let message, let route, _) = outcome else { Issue.record("\(outcome)"); return }
        #expect(route == .queued(dropped: 0))
        // Exactly the one-run script's message object (fields, order, names).
        let created = try #require(JSONParser.parse(message).objectValue?["create_time"]?.integerValue)
        let (s, r) = (fixture.sender, fixture.recipient)
        let expected = #"{"id":"\#(send.messageID)","from_id":\#(s),"from_name":"n\#(s)","from_avatar":"a\#(s)","to_id":\#(r),"to_name":"n\#(r)","to_avatar":"a\#(r)","chatType":"single","type":"text","data":"hello","options":{},"create_time":\#(created),"isremove":0,"sendUUid":"uuid-\#(s)"}"#
        #expect(String(decoding: message, as: UTF8.self) == expected)
        #expect(try await fixture.ids(in: fixture.senderHistory) == [send.messageID])
        #expect(try await fixture.ids(in: fixture.recipientHistory) == [send.messageID])
        #expect(try await fixture.queued() == [send.messageID])
        #expect(try await fixture.streamed(send.messageID) == 1)
        #expect(try await fixture.pendingCount() == 0)
        // Each history keeps its own index.
        for history in [fixture.senderHistory, fixture.recipientHistory] {
            #expect(try await fixture.redis.send("ZRANGE", history + ":ids", 0, -1).array?.compactMap(\.string) == [send.messageID])
        }
        // Not friends: the one message before a friendship is used, and kept.
        #expect(try await fixture.redis.send("HGET", fixture.keys.quota(fixture.sender), String(fixture.recipient)).string == "1")
        let second = try await fixture.steps.send(fixture.send("again"))
        #expect(second == .refused(.quota(.user)))
        #expect(try await fixture.redis.send("HGET", fixture.keys.quota(fixture.sender), String(fixture.recipient)).string == "1")
        #expect(try await fixture.queued() == [send.messageID])
    }

    @Test("--redis-wait-replicas: WAIT after the sender's step and after the recipient's, not after the last")
    func waitAfterTheStepsThatCarryThePromise() async throws {
        // A Redis of its own: its command counts are this test's alone. No replica: each WAIT
        // answers 0 after its 1 ms (0 would wait for ever), and the send is accepted all the same.
        let server = try RedisServerProcess()
        let redis = RedisClient(configuration: try .forTests(url: server.url))
        defer { Task { await redis.shutdown() } }
        var settings = TestBridge.settings()
        settings.messages.replicaAcknowledgement = ReplicaAcknowledgement(replicas: 1, timeoutMilliseconds: 1)
        let dependencies = await TestBridge.dependencies(redis: redis, settings: settings)
        try await dependencies.scripts.preload()
        let base = Int.random(in: 1_000_000...9_999_999) * 12
        let (sender, recipient) = (base + 1, base + 2)
        for user in [sender, recipient] {
            _ = try await redis.send(
                "HSET", testKeys.user(user), "id", String(user), "status", "1", "role", "user", "nickname", "n\(user)",
                "username", "u\(user)", "avatar", "", "uuid", "uuid-\(user)", "userset", "{}"
            )
        }
        func calls(_ command: String) async throws -> Int {
            let stats = try await redis.send("INFO", "commandstats").string ?? ""
            guard let line = stats.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("cmdstat_\(command):calls=") }) else { return 0 }
            return Int(line.dropFirst("cmdstat_\(command):calls=".count).prefix { $0.isNumber }) ?? -1
        }
        _ = try await redis.send("CONFIG", "RESETSTAT")
        let send = SendSingleMessage(
            keys: testKeys, messageID: UUID().uuidString.lowercased(), sender: sender, recipient: recipient, type: "text",
            data: Array("\"w\"".utf8), options: Array("{}".utf8), uncheckedToken: nil, clientID: nil, isAutoReply: false,
            settings: dependencies.sender.steps.settings
        )
        let outcome = try await dependencies.sender.steps.send(send)
        #expect(Self.acceptedID(outcome) == send.messageID)
        #expect(try await calls("evalsha") == 3, "the three steps")
        #expect(try await calls("wait") == 2, "after the sender's step and the recipient's only")
    }

    @Test("refused by the recipient's block: nothing visible to them, the quota given back")
    func refusedByBlock() async throws {
        let fixture = try await Fixture()
        defer { Task { await fixture.shutdown() } }
        _ = try await fixture.redis.send(
            "HSET", fixture.keys.blocks(fixture.recipient), String(fixture.sender),
            #"{"id":1,"user_id":\#(fixture.recipient),"blocked_id":\#(fixture.sender),"create_time":"2026-01-01 00:00:00"}"#
        )
        let send = fixture.send("blocked", clientID: "c-\(UUID().uuidString)")
        #expect(try await fixture.steps.send(send) == .refused(.blacklisted(.user)))
        #expect(try await fixture.ids(in: fixture.recipientHistory) == [])
        #expect(try await fixture.ids(in: fixture.senderHistory) == [])
        #expect(try await fixture.queued() == [])
        #expect(try await fixture.streamed(send.messageID) == 0)
        #expect(try await fixture.redis.send("HEXISTS", fixture.keys.quota(fixture.sender), String(fixture.recipient)).integer == 0)
        #expect(try await fixture.redis.send("EXISTS", fixture.keys.sentByClientID(fixture.sender, send.clientID!)).integer == 0)
        #expect(try await fixture.pendingCount() == 0)
    }

    @Test("a crash between the sender's and the recipient's step: the repairer finishes it once")
    func crashAfterBegin() async throws {
        let fixture = try await Fixture()
        defer { Task { await fixture.shutdown() } }
        let clientID = "c-\(UUID().uuidString)"
        let send = fixture.send("left pending", clientID: clientID)
        guard case .pending = try await fixture.dependencies.scripts.run(BeginSingleSend(keys: fixture.keys, send: send)) else {
            Issue.record("not pending"); return
        }
        #expect(try await fixture.pendingCount() == 1)
        // Under way: a retry with the client id is told "not sent", and nothing is written.
        #expect(try await fixture.steps.send(fixture.send("retry", clientID: clientID)) == .refused(.pending))
        #expect(try await fixture.queued() == [])
        // Not yet due: the repairer leaves it to the send under way.
        #expect(await fixture.repairer().repairExpired(now: 0) == 0)
        #expect(await fixture.repairer().repairExpired(now: Int64.max / 2) == 1)
        #expect(try await fixture.ids(in: fixture.recipientHistory) == [send.messageID])
        #expect(try await fixture.queued() == [send.messageID])
        #expect(try await fixture.streamed(send.messageID) == 1)
        #expect(try await fixture.ids(in: fixture.senderHistory) == [send.messageID])
        #expect(try await fixture.pendingCount() == 0)
        #expect(try await fixture.redis.send("GET", fixture.keys.sentByClientID(fixture.sender, clientID)).string == send.messageID)
        // A retry now answers the message, from my history.
        let retried = try await fixture.steps.send(fixture.send("retry", clientID: clientID))
        guard case .duplicate(let message) = retried else { Issue.record("\(retried)"); return }
        #expect((try JSONParser.parse(message)).objectValue?["id"]?.stringValue == send.messageID)
        #expect(await fixture.repairer().repairExpired(now: Int64.max / 2) == 0)
        #expect(try await fixture.queued() == [send.messageID])
    }

    @Test("a crash between the recipient's and the last step: the repairer finishes it without a second copy")
    func crashAfterApply() async throws {
        let fixture = try await Fixture()
        defer { Task { await fixture.shutdown() } }
        let send = fixture.send("half done")
        let begin = BeginSingleSend(keys: fixture.keys, send: send)
        guard case .pending(let decoded) = try await fixture.dependencies.scripts.run(begin) else { Issue.record("not pending"); return }
        let apply = ApplySingleSend(keys: fixture.keys, messageID: send.messageID, facts: begin.facts(of: decoded), settings: send.settings)
        let applied = try await fixture.dependencies.scripts.run(apply)
        guard case .accepted(let message, let route?, _, true) = applied else { Issue.record("\(applied)"); return }
        #expect(route == .queued(dropped: 0))
        #expect(try await fixture.ids(in: fixture.senderHistory) == [])
        #expect(await fixture.repairer().repairExpired(now: Int64.max / 2) == 1)
        #expect(try await fixture.ids(in: fixture.recipientHistory) == [send.messageID])
        #expect(try await fixture.queued() == [send.messageID])
        #expect(try await fixture.streamed(send.messageID) == 1)
        #expect(try await fixture.ids(in: fixture.senderHistory) == [send.messageID])
        let stored = try await fixture.redis.send("LINDEX", fixture.senderHistory, 0).bytes
        #expect(stored == message, "the sender's copy is the recipient's")
        #expect(try await fixture.pendingCount() == 0)
        #expect(try await fixture.redis.send("HGET", fixture.keys.quota(fixture.sender), String(fixture.recipient)).string == "1")
    }

    @Test("the recipient's step run again changes nothing and answers the same message")
    func applyTwice() async throws {
        let fixture = try await Fixture()
        defer { Task { await fixture.shutdown() } }
        // Friends: the reserved quota is given back by the last step.
        _ = try await fixture.redis.send(
            "HSET", fixture.keys.friends(fixture.recipient), String(fixture.sender), #"{"status":1,"isblack":0,"nickname":"pal"}"#
        )
        let send = fixture.send("twice")
        let begin = BeginSingleSend(keys: fixture.keys, send: send)
        guard case .pending(let decoded) = try await fixture.dependencies.scripts.run(begin) else { Issue.record("not pending"); return }
        #expect(decoded.reserved)
        let apply = ApplySingleSend(keys: fixture.keys, messageID: send.messageID, facts: begin.facts(of: decoded), settings: send.settings)
        let first = try await fixture.dependencies.scripts.run(apply)
        let second = try await fixture.dependencies.scripts.run(apply)
        guard case .accepted(let message, .some, _, false) = first else { Issue.record("\(first)"); return }
        #expect(second == .accepted(message: message, route: nil, historyTrimmed: 0, quotaUsed: false))
        #expect((try JSONParser.parse(message)).objectValue?["from_name"]?.stringValue == "pal")
        #expect(try await fixture.ids(in: fixture.recipientHistory) == [send.messageID])
        #expect(try await fixture.queued() == [send.messageID])
        #expect(try await fixture.streamed(send.messageID) == 1)
        let outcome = try await fixture.steps.finish(send.messageID, facts: begin.facts(of: decoded), clientID: nil)
        #expect(Self.acceptedID(outcome) == send.messageID)
        #expect(try await fixture.ids(in: fixture.senderHistory) == [send.messageID])
        #expect(try await fixture.redis.send("HEXISTS", fixture.keys.quota(fixture.sender), String(fixture.recipient)).integer == 0)
        // The last step again: the record is gone, nothing is appended twice.
        _ = try await fixture.steps.finish(send.messageID, facts: begin.facts(of: decoded), clientID: nil)
        #expect(try await fixture.ids(in: fixture.senderHistory) == [send.messageID])
        #expect(try await fixture.queued() == [send.messageID])
    }

    @Test("revoke between partitions: my copy and the revoke entry in mine, theirs by their step, once; a retry after a failure between marks theirs")
    func revokeAcross() async throws {
        let fixture = try await Fixture()
        defer { Task { await fixture.shutdown() } }
        let send = fixture.send("to revoke")
        guard case .accepted = try await fixture.steps.send(send) else { Issue.record("not accepted"); return }
        func isRemoved(_ history: String) async throws -> Int64? {
            let entry = try await fixture.redis.send("LINDEX", history, 0).bytes
            return entry.flatMap { try? JSONParser.parse($0).objectValue?["isremove"]?.integerValue }
        }
        let revoke = RevokeSingleMessage(
            keys: fixture.keys, messageID: send.messageID, sender: fixture.sender, recipient: fixture.recipient,
            windowMilliseconds: 300_000, streamCap: 1000, searchLimit: 1000, fromName: "n", fromAvatar: "",
            notice: JSONSerializer.string(SystemNotice.data("n撤回了一条消息"))
        )
        let mark = MarkRevokedCopy(
            keys: fixture.keys, messageID: send.messageID, sender: fixture.sender, recipient: fixture.recipient, searchLimit: 1000
        )
        guard case .revoked = try await fixture.dependencies.scripts.run(revoke) else { Issue.record("not revoked"); return }
        let across = fixture.keys.layout.partition(ofUser: fixture.sender) != fixture.keys.layout.partition(ofUser: fixture.recipient)
        #expect(try await isRemoved(fixture.senderHistory) == 1)
        // Between partitions the sender's step leaves their copy to their step (the process
        // failing here is what a retry repairs); in one partition it marked both.
        #expect(try await isRemoved(fixture.recipientHistory) == (across ? 0 : 1))
        guard case .alreadyRevoked = try await fixture.dependencies.scripts.run(revoke) else { Issue.record("not already"); return }
        #expect(try await fixture.dependencies.scripts.run(mark) == across)
        #expect(try await isRemoved(fixture.recipientHistory) == 1)
        #expect(try await fixture.dependencies.scripts.run(mark) == false)
        let shard = fixture.keys.stream(StreamName.messages, partition: fixture.keys.layout.partition(ofUser: fixture.sender))
        let entries = try await fixture.redis.send("XREVRANGE", shard, "+", "-", "COUNT", 2000).array ?? []
        let revokes = entries.filter { entry in
            let fields = (entry.array?.last?.array ?? []).compactMap(\.string)
            return fields.contains("revoke") && fields.contains(send.messageID)
        }
        #expect(revokes.count == 1)
    }

    @Test("on a Redis Cluster, between users on two primaries: each step on its slot, the message through the recipient process's stream in the recipient's partition", .timeLimit(.minutes(2)))
    func onCluster() async throws {
        let cluster = try RedisClusterProcess()
        let keys = RedisKeys(layout: KeyLayout(partitionTags: PartitionTags.evenlySpaced(count: 12)))
        var configuration = try RedisConfiguration(url: cluster.url)
        configuration.commandTimeout = .seconds(10)
        let redis = RedisClient(configuration: configuration)
        let scripts = RedisScripts(client: redis, scripts: LuaScripts.all.map { RedisScript(name: $0.name, source: $0.source) })
        func process(_ node: String) -> MessageDelivery {
            MessageDelivery(
                scripts: scripts, keys: keys, connections: ConnectionTable(), node: node, policy: DeliveryPolicy(),
                logger: Logger(label: "test"), background: BackgroundWork(owned: false)
            )
        }
        let (a, b) = (process("a"), process("b"))
        let readers = (0..<12).map { _ in RedisClient(configuration: NodeStreamListener.readerConfiguration(configuration)) }
        let listening = Task { try await NodeStreamListener(readers: readers, delivery: b, logger: Logger(label: "test")).run() }
        defer {
            listening.cancel()
            Task {
                try? await Task.sleep(for: .seconds(1.5))
                for reader in readers { await reader.shutdown() }
                await redis.shutdown()
            }
        }
        for node in [a, b] { await NodeHeartbeat(delivery: node, logger: Logger(label: "test")).beat() }

        // Partition 1 and partition 5 of 12: slots of the first and the second primary.
        let base = Int.random(in: 1_000_000...9_999_999) * 12
        let (sender, recipient) = (base + 1, base + 5)
        let primaries = try [sender, recipient].map { try cluster.primary(ofSlot: Int(HashSlot(key: keys.user($0)).rawValue)) }
        #expect(primaries[0] != primaries[1])
        for user in [sender, recipient] {
            _ = try await redis.send(
                "HSET", keys.user(user), "status", "1", "role", "user", "nickname", "n\(user)", "username", "u\(user)",
                "avatar", "", "uuid", "uuid-\(user)", "userset", "{}"
            ).throwingOnError()
        }
        _ = try await redis.send("SET", keys.userToken(sender), "t").throwingOnError()
        // The recipient's target is on B, by a connection B does not hold: B's listener
        // routes the delivery again, into the offline queue, where the test sees it.
        _ = try await redis.send("SET", keys.online(recipient), "b:424242", "PX", 60_000).throwingOnError()

        let sender_ = MessageSender(scripts: scripts, delivery: a, policy: MessagePolicy(), logger: Logger(label: "test"))
        let id = UUID().uuidString.lowercased()
        let outcome = try await sender_.steps.send(SendSingleMessage(
            keys: keys, messageID: id, sender: sender, recipient: recipient, type: "text", data: Array("\"hi\"".utf8),
            options: Array("{}".utf8), uncheckedToken: "t", clientID: "c1", isAutoReply: false, settings: sender_.steps.settings
        ))
        guard case .accepted(let message, let route, _) = outcome else { Issue.record("\(outcome)"); return }
        #expect(route == .routed(node: "b"))
        let popped = try await redis.send("BLPOP", keys.offlineQueue(recipient), "5").throwingOnError().array?.last?.bytes
        #expect(popped == message, "B read its stream in the recipient's partition")
        #expect(try await redis.send("LLEN", keys.singleHistory(owner: sender, peer: recipient)).integer == 1)
        #expect(try await redis.send("LLEN", keys.singleHistory(owner: recipient, peer: sender)).integer == 1)
        #expect(try await redis.send("XLEN", keys.stream(StreamName.messages, partition: 5)).integer == 1)
        #expect(try await redis.send("EXISTS", keys.stream(StreamName.messages, partition: 1)).integer == 0)
        #expect(try await redis.send("ZCARD", keys.pendingSends(partition: 1)).integer == 0)
        #expect(try await redis.send("GET", keys.sentByClientID(sender, "c1")).string == id)
    }
}
