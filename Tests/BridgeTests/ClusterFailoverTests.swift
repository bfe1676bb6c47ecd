import Foundation
import LuaScripts
import Model
import NIOCore
import RedisClient
import TestSupport
import Testing

@testable import ChatScripts

/// A primary killed (SIGKILL) under a steady load of single sends on a Redis Cluster of the
/// test's own (three primaries, one replica each, 1 s node timeout): its replica takes
/// over, sends succeed again by themselves within seconds, and the test measures what was
/// lost — messages answered accepted that the promoted replica does not hold.
///
/// The guarantee: Redis replicates asynchronously, so without `WAIT` a failover loses the
/// sends the primary accepted in the last moments before it died (those its replica had
/// not read yet), and only those; each send is all or nothing (a script's writes replicate
/// as one transaction), so what survives is whole: in both histories and in the stream
/// once. With `WAIT 1` after each send (`--redis-wait-replicas 1`), a send answered with
/// one replica's acknowledgement survives: nothing acknowledged is lost.
///
/// The sends run the real `message_send_single` script through the cluster client the
/// processes use (the client's failover handling, `ReplicaAcknowledgement` as the bridge
/// runs it), between two users of ONE partition (12 and 24 of 12 partitions), whose keys
/// are all on one slot. A cross-partition pair is one more `Scenario` once the send is
/// split into steps (its steps then run where `send` runs the one script).
@Suite("Cluster failover under send load", .serialized, .offCooperativePool)
struct ClusterFailoverTests {
    struct Scenario: Sendable, CustomStringConvertible {
        var sender = 12
        var recipient = 24
        /// `WAIT` after each send: replicas, or 0 for none.
        var waitReplicas = 0
        /// The replica paused (SIGSTOP) and its link cut this long before its primary is
        /// killed, and resumed right after: the writes of that window never reach it.
        var replicaLag: Duration = .zero
        var description: String { "\(sender)→\(recipient), WAIT \(waitReplicas), replica behind by \(replicaLag)" }
    }

    /// One send as the load saw it.
    struct Attempt: Sendable {
        let id: String
        let started: ContinuousClock.Instant
        let ended: ContinuousClock.Instant
        /// nil: failed (an error or a refusal); else the replicas WAIT counted (0 without WAIT).
        let acknowledgedBy: Int?
    }

    struct Measurement: Sendable, CustomStringConvertible {
        var accepted = 0
        /// Accepted with WAIT, fewer replicas than asked acknowledging within the timeout.
        var unacknowledged = 0
        var failed = 0
        /// Accepted, then missing from the promoted replica.
        var lost: [Attempt] = []
        /// From the kill to the first accepted answer of a send started after it.
        var recovery: Duration = .zero
        /// Before the kill.
        var sendsPerSecond = 0.0
        var medianLatency: Duration = .zero
        var p99Latency: Duration = .zero
        /// After the recovery, the promoted replica serving alone.
        var sendsPerSecondAfter = 0.0
        /// How long before the kill the last lost send was answered.
        var lostWindow: Duration = .zero
        /// Lost, though answered before the replica was cut off (none: it had them).
        var lostBeforeCutOff = 0
        var description: String {
            "accepted \(accepted) (\(unacknowledged) without the replicas' acknowledgement), failed \(failed), lost \(lost.count) (answered up to \(lostWindow) before the kill), "
                + "recovery \(recovery), before the kill \(Int(sendsPerSecond)) sends/s, latency p50 \(medianLatency) p99 \(p99Latency), "
                + "after the recovery \(Int(sendsPerSecondAfter)) sends/s"
        }
    }

    static let partitions = 12
    static let keys = RedisKeys(layout: KeyLayout(partitionTags: PartitionTags.evenlySpaced(count: partitions)))
    /// Concurrent senders: a steady load that keeps the primary busy without starving two cores.
    static let workers = 4

    func clusterClient(_ cluster: RedisClusterProcess) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: cluster.url)
        configuration.poolSize = 2
        // The processes' default command timeout (--redis-timeout-ms).
        configuration.commandTimeout = .seconds(2)
        configuration.reconnectBackoff = .milliseconds(5) ... .milliseconds(100)
        return RedisClient(configuration: configuration)
    }

    /// The two accounts, friends, written as hydrate writes them (only the fields the send
    /// script reads).
    func makeUsers(_ redis: RedisClient, _ scenario: Scenario) async throws {
        for (user, peer) in [(scenario.sender, scenario.recipient), (scenario.recipient, scenario.sender)] {
            #expect(try await redis.send(
                "HSET", Self.keys.user(user), "status", "1", "role", "user", "nickname", "n\(user)", "username", "u\(user)",
                "avatar", "", "uuid", "uuid-\(user)", "_v", "1"
            ) == .integer(7))
            #expect(try await redis.send(
                "HSET", Self.keys.friends(user), String(peer), #"{"user_id":\#(user),"friend_id":\#(peer),"status":1,"isblack":0}"#
            ) == .integer(1))
        }
    }

    /// Runs the load, kills the primary of the scenario's slot after `before`, keeps
    /// sending for `after`, then reads what the promoted replica holds.
    func measure(_ scenario: Scenario, before: Duration = .seconds(3), after: Duration = .seconds(8)) async throws -> Measurement {
        let cluster = try RedisClusterProcess(nodeTimeoutMilliseconds: 1000)
        let redis = try clusterClient(cluster)
        defer { Task { await redis.shutdown() } }
        let scripts = RedisScripts(client: redis, scripts: LuaScripts.all.map { RedisScript(name: $0.name, source: $0.source) })
        try await scripts.preload()
        try await makeUsers(redis, scenario)
        // No cap within the run: every accepted send must still be there.
        let settings = SendSettings(
            clientIDWindow: 300, historyCap: 1_000_000, streamCap: 10_000_000, node: "failover-test", deadAfter: 15_000,
            queueCap: 1_000_000, queueByteCap: 1 << 40
        )
        // The bridge's default timeout. WAIT holds its connection until it is answered, and
        // the promoted replica has no replica of its own until the dead node returns: each
        // send then waits the whole timeout, with the sends queued behind it on the
        // connection (the price measured as sendsPerSecondAfter).
        let wait = scenario.waitReplicas > 0 ? ReplicaAcknowledgement(replicas: scenario.waitReplicas, timeoutMilliseconds: 100) : nil

        let partition = Self.keys.layout.partition(ofUser: scenario.sender)
        let slot = Int(HashSlot(key: Self.keys.user(scenario.sender)).rawValue)
        let primary = try cluster.primary(ofSlot: slot)
        let heir = try #require(try cluster.roles().replicaOf.first { $0.value == primary }?.key)

        let clock = ContinuousClock()
        let start = clock.now
        let killAt = start + before
        let stopAt = killAt + after
        let (attempts, cutOff, killed) = try await withThrowingTaskGroup(of: [Attempt].self) { group in
            for worker in 0..<Self.workers {
                group.addTask {
                    var mine: [Attempt] = []
                    var sequence = 0
                    while clock.now < stopAt {
                        sequence += 1
                        let id = "w\(worker)-\(sequence)-\(UUID().uuidString.prefix(8))"
                        let call = SendSingleMessage(
                            keys: Self.keys, messageID: id, sender: scenario.sender, recipient: scenario.recipient, type: "text",
                            data: Array(#""\#(id)""#.utf8), options: Array("{}".utf8), uncheckedToken: nil, clientID: nil,
                            isAutoReply: false, settings: settings
                        )
                        let began = clock.now
                        var acknowledged: Int?
                        do {
                            let reply: SendSingleMessage.Reply
                            if let wait {
                                let (answer, replicas) = try await scripts.run(call, acknowledgedBy: wait)
                                (reply, acknowledged) = (answer, replicas)
                            } else {
                                (reply, acknowledged) = (try await scripts.run(call), 0)
                            }
                            if case .accepted = reply {} else { acknowledged = nil }
                        } catch {
                            acknowledged = nil
                            // A failed send is tried again at once, as a client would; no pause
                            // keeps the load steady through the outage.
                        }
                        mine.append(Attempt(id: id, started: began, ended: clock.now, acknowledgedBy: acknowledged))
                    }
                    return mine
                }
            }
            var cutOff: ContinuousClock.Instant?
            if scenario.replicaLag > .zero {
                try await clock.sleep(until: killAt - scenario.replicaLag)
                cutOff = clock.now
                // Paused, then cut off: what the primary writes from now on never reaches
                // it (what it had been sent before waits in its socket and is read).
                cluster.pause(heir)
                _ = try cluster.send(primary, ["CLIENT", "KILL", "TYPE", "replica"])
            }
            try await clock.sleep(until: killAt)
            let killed = clock.now
            cluster.kill(primary)
            cluster.resume(heir)
            var all: [Attempt] = []
            for try await mine in group { all += mine }
            return (all, cutOff ?? killed, killed)
        }

        // The heir serves the slot; read what it holds.
        try await eventually(within: 15) { try cluster.primary(ofSlot: slot, askingPort: heir) == heir }
        let history = try await redis.send("LRANGE", Self.keys.singleHistory(owner: scenario.recipient, peer: scenario.sender), 0, -1)
        let senderHistory = try await redis.send("LRANGE", Self.keys.singleHistory(owner: scenario.sender, peer: scenario.recipient), 0, -1)
        let stream = try await redis.send("XRANGE", Self.keys.stream(StreamName.messages, partition: partition), "-", "+")
        func ids(_ list: RedisReply) -> [String] {
            (list.array ?? []).compactMap { entry in
                guard let object = try? JSONSerialization.jsonObject(with: Data(entry.bytes ?? [])) as? [String: Any] else { return nil }
                return object["id"] as? String
            }
        }
        let streamIDs = (stream.array ?? []).compactMap { entry -> String? in
            guard let fields = entry.array, fields.count == 2 else { return nil }
            return fields[1].fieldValues["id"]
        }
        let held = ids(history)
        // Whole: every message the heir holds is in both histories and in the stream, once.
        #expect(Set(held).count == held.count, "no message twice in the recipient's history")
        #expect(held.sorted() == ids(senderHistory).sorted(), "the two histories hold the same messages")
        #expect(held.sorted() == streamIDs.sorted(), "the stream holds the histories' messages, once each")

        let accepted = attempts.filter { $0.acknowledgedBy != nil }
        let heldSet = Set(held)
        var result = Measurement()
        result.accepted = accepted.count
        if scenario.waitReplicas > 0 { result.unacknowledged = accepted.filter { ($0.acknowledgedBy ?? 0) < scenario.waitReplicas }.count }
        result.failed = attempts.count - accepted.count
        result.lost = accepted.filter { !heldSet.contains($0.id) }
        // Nothing that failed is there... except sends whose answer was lost with the
        // connection (they may have run): those may be held, and are not counted.
        let steadyUntil = killAt - scenario.replicaLag
        let steady = accepted.filter { $0.ended < steadyUntil && $0.started > start + .milliseconds(500) }
        let latencies = steady.map { $0.ended - $0.started }.sorted()
        if !latencies.isEmpty {
            result.medianLatency = latencies[latencies.count / 2]
            result.p99Latency = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
            let window = steadyUntil - (start + .milliseconds(500))
            result.sendsPerSecond = Double(steady.count) / (window / .seconds(1))
        }
        if let firstAfter = accepted.filter({ $0.started > killed }).min(by: { $0.ended < $1.ended }) {
            result.recovery = firstAfter.ended - killed
        } else {
            result.recovery = .seconds(3600)
        }
        let recovered = killed + result.recovery
        if recovered < stopAt {
            let after = accepted.filter { $0.started >= recovered }.count
            result.sendsPerSecondAfter = Double(after) / ((stopAt - recovered) / .seconds(1))
        }
        result.lostBeforeCutOff = result.lost.filter { $0.ended < cutOff }.count
        if let earliestLost = result.lost.min(by: { $0.ended < $1.ended }) {
            result.lostWindow = killed - earliestLost.ended
        }
        print("cluster failover (\(scenario)): \(result)")
        return result
    }

    @Test("no WAIT: sends recover by themselves within seconds; what is lost is what the replica had not read, each send whole or not at all",
          .timeLimit(.minutes(3)), arguments: [0, 500])
    func withoutWait(replicaLagMilliseconds: Int) async throws {
        let lag = Duration.milliseconds(replicaLagMilliseconds)
        let result = try await measure(Scenario(replicaLag: lag))
        #expect(result.accepted > 200, "a steady load before and after the kill")
        #expect(result.recovery < .seconds(6), "the replica takes over in about two seconds with a 1 s node timeout")
        if lag == .zero {
            // The replica is microseconds behind: at most the last moment's sends.
            #expect(result.lostWindow < .milliseconds(100), "\(result)")
        } else {
            // Lost: answered while the replica was cut off, not before.
            #expect(result.lostBeforeCutOff == 0, "\(result)")
            #expect(!result.lost.isEmpty, "a replica half a second behind loses the sends of that half second")
        }
    }

    @Test("WAIT 1 after each send: nothing acknowledged by a replica is lost; recovery as without",
          .timeLimit(.minutes(3)), arguments: [0, 500])
    func withWaitOne(replicaLagMilliseconds: Int) async throws {
        let result = try await measure(Scenario(waitReplicas: 1, replicaLag: .milliseconds(replicaLagMilliseconds)))
        #expect(result.accepted > 100)
        #expect(result.recovery < .seconds(6))
        let acknowledgedLost = result.lost.filter { ($0.acknowledgedBy ?? 0) >= 1 }
        #expect(acknowledgedLost.isEmpty, "\(acknowledgedLost.count) sends acknowledged by a replica were lost")
    }
}
