import Foundation
import MariaDB
import Model
import RedisClient
import TestSupport
import Testing

/// The whole system through a primary's death: a Redis Cluster of the test's own (three
/// primaries, one replica each, 1 s node timeout), a migrated MariaDB with a persister,
/// two bridge processes on `redis-cluster://`, recipients connected over WebSocket to the
/// second bridge, and a steady load of `POST /api/chat/socket/sendmessage` on the first
/// between four pairs of users: one pair between partitions whose SENDER's partition is
/// on the primary to be killed (the send's steps A and C there, B elsewhere), one whose
/// RECIPIENT's is (B there), one within one partition on it (one script run), and one
/// between two partitions of the surviving primaries. The primary is killed with SIGKILL;
/// its replica takes over. After the load and the repairs, every send the client was told
/// succeeded is checked: in the recipient's and the sender's history, in the stream
/// shards and in MariaDB exactly once, or lost, and when it was answered.
///
/// The guarantee measured (docs/benchmarks.md, *Redis Cluster*): without `WAIT`, a
/// failover loses what the dead primary's replica had not read — on loopback the last
/// moments before the kill; with the replica cut off half a second before (a scenario),
/// that half second — and nothing older. A send between partitions can then also be left
/// half done for good: its first step lost while its second survived on the other primary
/// (the recipient has it, the sender's history never will), or its second lost and its
/// last survived. With `--redis-wait-replicas 1` (a `WAIT` after the one-run script and
/// after steps A and B), nothing a replica acknowledged is lost and every message is whole
/// after the repairers ran: a miss must be matched by a short WAIT before the kill
/// (`chat_redis_wait_short_total`).
@Suite("Cluster failover through the bridges and the persister", .serialized, .offCooperativePool)
struct ClusterSystemFailoverTests {
    static let partitions = 12
    static let keys = RedisKeys(layout: KeyLayout(partitionTags: PartitionTags.evenlySpaced(count: partitions)))
    /// The load before the kill, and after it.
    static let before: Duration = .seconds(3)
    static let after: Duration = .seconds(7)
    /// Without WAIT, what may be lost: sends answered at most this long before the kill (the
    /// replica is microseconds behind on loopback; a second is the patience of a busy machine).
    static let lossWindow: Duration = .seconds(1)

    enum PairKind: String, CaseIterable, Sendable {
        case senderOnKilled = "between partitions, the sender's on the killed primary"
        case recipientOnKilled = "between partitions, the recipient's on the killed primary"
        case withinKilled = "within one partition on the killed primary"
        case betweenLive = "between partitions of the live primaries"
    }

    struct Pair: Sendable {
        let kind: PairKind
        let sender: Account
        let recipient: Account
    }

    typealias Account = (id: Int, token: String, username: String)

    struct Scenario: Sendable, CustomStringConvertible {
        /// `--redis-wait-replicas`: 0 for none.
        var waitReplicas = 0
        /// The dead primary's replica paused (SIGSTOP) and its link cut this long before the
        /// kill, resumed right after: the writes of that window never reach it.
        var replicaLag: Duration = .zero
        var description: String { "WAIT \(waitReplicas), replica behind by \(replicaLag)" }
    }

    /// One HTTP send as the client saw it.
    struct Attempt: Sendable {
        let text: String
        let started: ContinuousClock.Instant
        let ended: ContinuousClock.Instant
        /// The message id when the client was told it was sent; nil otherwise.
        let messageID: String?
    }

    struct PairResult: Sendable, CustomStringConvertible {
        let kind: PairKind
        var accepted = 0
        var failed = 0
        /// Accepted, and not in the recipient's history after the repairs.
        var lost: [Attempt] = []
        /// In one history only after the repairs: half done for good.
        var halfDone = 0
        /// Told failed, and there anyway (a step ran before the failure; the repairer finished it).
        var failedButDone = 0
        /// From the kill to the first accepted answer of a send started after it.
        var recovery: Duration?
        /// Held by the recipient, never pushed to their WebSocket.
        var notPushed = 0
        /// How long before the kill the earliest lost send was answered (negative: after).
        var lostWindow: Duration = .zero
        /// Accepted sends a second before the kill (after the first half second), and after the recovery.
        var perSecondBefore = 0.0
        var perSecondAfter = 0.0
        /// Latency of the accepted sends before the kill.
        var medianLatency: Duration = .zero
        var description: String {
            "\(kind.rawValue): accepted \(accepted), failed \(failed), lost \(lost.count) (the earliest answered \(lostWindow) before the kill), "
                + "half done \(halfDone), failed but done \(failedButDone), recovery \(recovery.map { "\($0)" } ?? "none"), held but not pushed \(notPushed), "
                + "sends/s before \(Int(perSecondBefore)) (p50 \(medianLatency)) after \(Int(perSecondAfter))"
        }
    }

    /// The users of each kind of pair, chosen among 24 registered (ids fall into all 12
    /// partitions twice); `killed`: the partitions of the primary to be killed.
    static func pairs(_ users: [Account], killed: Set<Int>, primaryOf: [Int: Int]) throws -> [Pair] {
        let layout = keys.layout
        var free = users
        func take(_ matching: (Account) -> Bool) throws -> Account {
            guard let index = free.firstIndex(where: matching) else { throw TestEnvironment.Missing(description: "no user left for a pair") }
            return free.remove(at: index)
        }
        func partition(_ account: Account) -> Int { layout.partition(ofUser: account.id) }
        var result: [Pair] = []
        let s1 = try take { killed.contains(partition($0)) }
        let r1 = try take { !killed.contains(partition($0)) }
        result.append(Pair(kind: .senderOnKilled, sender: s1, recipient: r1))
        let s2 = try take { !killed.contains(partition($0)) }
        let r2 = try take { killed.contains(partition($0)) }
        result.append(Pair(kind: .recipientOnKilled, sender: s2, recipient: r2))
        let s3 = try take { account in killed.contains(partition(account)) && free.contains { $0.id != account.id && partition($0) == partition(account) } }
        let r3 = try take { partition($0) == partition(s3) }
        result.append(Pair(kind: .withinKilled, sender: s3, recipient: r3))
        let s4 = try take { !killed.contains(partition($0)) }
        let r4 = try take { !killed.contains(partition($0)) && primaryOf[partition($0)] != primaryOf[partition(s4)] }
        result.append(Pair(kind: .betweenLive, sender: s4, recipient: r4))
        return result
    }

    static func connected(_ bridge: BridgeProcess, _ token: String) async throws -> WebSocketTestClient {
        let socket = try await bridge.connect(token: token)
        while true {
            if try await socket.nextText(within: 15).contains(#""type":"system""#) { return socket }
        }
    }

    /// The message ids of a history list (entries are the message objects' JSON).
    static func ids(_ list: RedisReply) -> [String] {
        (list.array ?? []).compactMap { entry in
            guard let object = try? JSONSerialization.jsonObject(with: Data(entry.bytes ?? [])) as? [String: Any] else { return nil }
            return object["id"] as? String
        }
    }

    /// A counter summed over the bridges' `/metrics`; `series`: its name with its labels.
    static func counterSum(_ bridges: [BridgeProcess], _ series: String) -> Int {
        bridges.reduce(0) { sum, bridge in
            let text = (try? bridge.metricsText()) ?? ""
            let line = text.split(separator: "\n").first { $0.hasPrefix(series + " ") }
            return sum + (line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } ?? 0)
        }
    }

    /// Runs the system through a primary's death; returns each pair's result after the
    /// repairs and the persister, with the system's own checks as expectations.
    func measure(_ scenario: Scenario) async throws -> [PairResult] {
        let waitReplicas = scenario.waitReplicas
        let cluster = try RedisClusterProcess(nodeTimeoutMilliseconds: 1000)
        var configuration = try RedisConfiguration(url: cluster.url)
        configuration.commandTimeout = .seconds(10)
        let redis = RedisClient(configuration: configuration)
        defer { Task { await redis.shutdown() } }

        return try await MariaDBTestDatabase.with(prefix: "failover", create: false) { database in
            let migrated = try Executables.run("persister", arguments: ["migrate"], environment: ["MARIADB_URL": database.url])
            guard migrated.status == 0 else {
                throw TestEnvironment.Missing(description: "persister migrate exited \(migrated.status): \(migrated.output)")
            }
            // A heartbeat a second: the repairer's pace, and liveness.
            // No history cap within the run: every accepted send must still be there.
            var settings = ["REDIS_PARTITIONS": String(Self.partitions), "HEARTBEAT_MS": "1000", "HISTORY_CAP": "1000000"]
            if waitReplicas > 0 { settings["REDIS_WAIT_REPLICAS"] = String(waitReplicas) }
            let persister = try PersisterProcess(
                redisURL: cluster.url, mariaDBURL: database.url, settings: ["REDIS_PARTITIONS": String(Self.partitions)]
            )
            let sending = try await BridgeProcess(redisURL: cluster.url, settings: settings)
            let receiving = try await BridgeProcess(redisURL: cluster.url, settings: settings)
            let bridges = [sending, receiving]

            // Which primary serves which partition; the victim: partition 0's.
            func slot(ofPartition partition: Int) -> Int { Int(HashSlot(key: Self.keys.layout.suffix(ofPartition: partition)).rawValue) }
            var primaryOf: [Int: Int] = [:]
            for partition in 0..<Self.partitions { primaryOf[partition] = try cluster.primary(ofSlot: slot(ofPartition: partition)) }
            let victim = try #require(primaryOf[0])
            let killedPartitions = Set(primaryOf.filter { $0.value == victim }.map(\.key))
            #expect(killedPartitions.count == 4, "\(primaryOf)")
            let heir = try #require(try cluster.roles().replicaOf.first { $0.value == victim }?.key)

            var users: [Account] = []
            for index in 0..<(2 * Self.partitions) { users.append(try sending.register("fo\(UUID().uuidString.prefix(6).lowercased())\(index)")) }
            let pairs = try Self.pairs(users, killed: killedPartitions, primaryOf: primaryOf)
            for pair in pairs {
                let made = try sending.post("/api/chat/autoAddFriendAndAgree", ["friend_id": pair.recipient.id], token: pair.sender.token)
                #expect(made.status == 200 && made.body["msg"] as? String == "ok", "\(made)")
            }
            var opened: [WebSocketTestClient] = []
            for pair in pairs { opened.append(try await Self.connected(receiving, pair.recipient.token)) }
            let sockets = opened
            defer { Task { for socket in sockets { await socket.close() } } }
            let shortWaitsBefore = Self.counterSum(bridges, "chat_redis_wait_short_total")

            let clock = ContinuousClock()
            let start = clock.now
            let killAt = start + Self.before
            let stopAt = killAt + Self.after
            let (attempts, shortBeforeKill, killed, cutOff) = try await withThrowingTaskGroup(
                of: (Int, [Attempt]).self, returning: ([[Attempt]], Int, ContinuousClock.Instant, ContinuousClock.Instant?).self
            ) { group in
                for (index, pair) in pairs.enumerated() {
                    group.addTask {
                        var mine: [Attempt] = []
                        var sequence = 0
                        while clock.now < stopAt {
                            sequence += 1
                            let text = "fo\(index)-\(sequence)"
                            let began = clock.now
                            let response = try? sending.post("/api/chat/socket/sendmessage", [
                                "sendto_id": pair.recipient.id, "chatType": "single", "type": "text", "data": text,
                            ], token: pair.sender.token)
                            var id: String?
                            if let response, response.status == 200, response.body["msg"] as? String == "ok" {
                                id = (response.body["data"] as? [String: Any])?["id"] as? String
                            }
                            mine.append(Attempt(text: text, started: began, ended: clock.now, messageID: id))
                            // A failure is tried again soon, as a client would: the load stays
                            // steady through the outage without spinning on fast refusals.
                            if id == nil { try await Task.sleep(for: .milliseconds(20)) }
                        }
                        return (index, mine)
                    }
                }
                var cutOff: ContinuousClock.Instant?
                if scenario.replicaLag > .zero {
                    try await clock.sleep(until: killAt - scenario.replicaLag)
                    cutOff = clock.now
                    // Paused, then cut off: what the primary writes from now on never reaches
                    // it (what it had been sent before waits in its socket and is read).
                    cluster.pause(heir)
                    _ = try cluster.send(victim, ["CLIENT", "KILL", "TYPE", "replica"])
                }
                try await clock.sleep(until: killAt)
                // Short WAITs so far: with the replica there, none (or the machine was slow).
                let short = Self.counterSum(bridges, "chat_redis_wait_short_total") - shortWaitsBefore
                cluster.kill(victim)
                // The moment of the kill as it happened (the sleep and the metrics may run late).
                let killed = clock.now
                cluster.resume(heir)
                var all = [[Attempt]](repeating: [], count: pairs.count)
                for try await (index, mine) in group { all[index] = mine }
                return (all, short, killed, cutOff)
            }

            // The heir serves the victim's slots; every pending step is finished (the
            // repairer: a record's deadline is 10 s after its first step, the heartbeat 1 s).
            try await eventually(within: 30) { try cluster.primary(ofSlot: slot(ofPartition: 0), askingPort: heir) == heir }
            func pending() async throws -> Int {
                var count = 0
                for partition in 0..<Self.partitions {
                    count += Int(try await redis.send("ZCARD", Self.keys.pendingSends(partition: partition)).throwingOnError().integer ?? 0)
                }
                return count
            }
            let repairedSeries = #"chat_pending_steps_repaired_total{operation="single_send"}"#
            let pendingAfterLoad = try await pending()
            let repairs = try await eventually(within: 60) {
                if try await pending() == 0 { return true }
                try await Task.sleep(for: .milliseconds(300))
                return false
            }
            let repaired = Self.counterSum(bridges, repairedSeries)
            print("cluster system failover (\(scenario)): \(pendingAfterLoad) sends pending after the load, finished by the repairers within \(repairs); \(repaired) repaired in all")
            // What was pending is finished by the repairers, nobody else.
            #expect(repaired >= pendingAfterLoad)
            var streamCount: [String: Int] = [:]
            for shard in Self.keys.shards(of: StreamName.messages) {
                for entry in try await redis.send("XRANGE", shard, "-", "+").throwingOnError().array ?? [] {
                    guard let fields = entry.array, fields.count == 2, let id = fields[1].fieldValues["id"] else { continue }
                    streamCount[id, default: 0] += 1
                }
            }
            // The texts the recipients' sockets were pushed (each send's text is unique).
            var pushed: [Set<String>] = []
            let marker = /fo\d+-\d+/
            for socket in sockets {
                let frames = await socket.texts(for: 1).joined(separator: "\n")
                pushed.append(Set(frames.matches(of: marker).map { String($0.output) }))
            }

            var results: [PairResult] = []
            // What the recipients hold: what the stream shards (and MariaDB) must hold.
            var everyReceived: Set<String> = []
            // Without WAIT, what may be missing: sends answered after the replica was cut off,
            // or in the last moments before the kill.
            let lossFrom = cutOff.map { $0 - .milliseconds(100) } ?? killed - Self.lossWindow
            var missingOnKilled = 0
            // Accepted, and not in the recipient's history.
            var everyLost: Set<String> = []
            for (index, pair) in pairs.enumerated() {
                let theirs = Self.ids(try await redis.send("LRANGE", Self.keys.singleHistory(owner: pair.recipient.id, peer: pair.sender.id), 0, -1))
                let mine = Self.ids(try await redis.send("LRANGE", Self.keys.singleHistory(owner: pair.sender.id, peer: pair.recipient.id), 0, -1))
                #expect(Set(theirs).count == theirs.count && Set(mine).count == mine.count, "\(pair.kind): no message twice in a history")
                let held = Set(theirs).union(mine)
                everyReceived.formUnion(theirs)
                // The stream entry is written with the recipient's copy (its step, or the one run).
                for id in theirs { #expect(streamCount[id] == 1, "\(pair.kind): \(id) in the stream shards \(streamCount[id] ?? 0) times") }

                var result = PairResult(kind: pair.kind)
                let all = attempts[index]
                let accepted = all.filter { $0.messageID != nil }
                result.accepted = accepted.count
                result.failed = all.count - accepted.count
                result.lost = accepted.filter { !theirs.contains($0.messageID!) }
                let halfDone = Set(theirs).symmetricDifference(mine)
                result.halfDone = halfDone.count
                let acceptedIDs = Set(accepted.compactMap(\.messageID))
                result.failedButDone = held.subtracting(acceptedIDs).count
                result.recovery = accepted.filter { $0.started > killed }.map { $0.ended - killed }.min()
                if let earliest = result.lost.min(by: { $0.ended < $1.ended }) { result.lostWindow = killed - earliest.ended }
                let steady = accepted.filter { $0.started > start + .milliseconds(500) && $0.ended < killed }
                result.perSecondBefore = Double(steady.count) / ((killed - start - .milliseconds(500)) / .seconds(1))
                let latencies = steady.map { $0.ended - $0.started }.sorted()
                if !latencies.isEmpty { result.medianLatency = latencies[latencies.count / 2] }
                if let recovery = result.recovery, killed + recovery < stopAt {
                    let after = accepted.filter { $0.started >= killed + recovery }.count
                    result.perSecondAfter = Double(after) / ((stopAt - killed - recovery) / .seconds(1))
                }
                // The pushes carry the text; held messages' texts must have reached the socket.
                let heldTexts = accepted.filter { held.contains($0.messageID!) }.map(\.text)
                result.notPushed = heldTexts.filter { !pushed[index].contains($0) }.count
                results.append(result)
                print("cluster system failover (\(scenario)): \(result)")

                #expect(result.accepted > 20, "a steady load: \(result)")
                #expect(result.recovery.map { $0 < .seconds(15) } == true, "sends succeed again by themselves: \(result)")
                if pair.kind != .betweenLive { missingOnKilled += result.lost.count + result.halfDone }
                everyLost.formUnion(result.lost.compactMap(\.messageID))
                if waitReplicas == 0 {
                    // What the replica had not read, nothing older — lost, or half done: a lost
                    // first step whose second survived (the recipient has it, the sender never
                    // will), a lost second step whose last survived (the sender has it).
                    let recent = Set(all.filter { $0.ended > lossFrom }.compactMap(\.messageID))
                    #expect(result.lost.allSatisfy { $0.ended > lossFrom }, "\(result)")
                    #expect(halfDone.allSatisfy { recent.contains($0) || !acceptedIDs.contains($0) }, "\(result)")
                } else {
                    // Acknowledged by a replica: nothing lost, every message whole.
                    #expect(result.lost.count + result.halfDone <= shortBeforeKill, "WAIT short \(shortBeforeKill) times before the kill: \(result)")
                }
                if pair.kind == .betweenLive {
                    #expect(result.lost.isEmpty && result.halfDone == 0 && result.notPushed == 0, "untouched by the kill: \(result)")
                }
            }
            #expect(Set(streamCount.keys) == everyReceived, "the stream shards hold the recipients' messages and nothing else")
            if scenario.replicaLag > .zero {
                #expect(missingOnKilled > 0, "a replica cut off loses the sends of that window on its primary")
            }
            let shortWaits = Self.counterSum(bridges, "chat_redis_wait_short_total") - shortWaitsBefore
            let lost = results.reduce(0) { $0 + $1.lost.count }
            print("cluster system failover (\(scenario)): lost \(lost) in all, \(missingOnKilled) lost or half done on the killed primary; WAIT short \(shortBeforeKill) times before the kill, \(shortWaits) in all (the heir has no replica)")

            // The persister writes each message the recipients hold once (the table's
            // primary key); beyond those only lost ones: read from the dying primary's shard
            // before its replica had them (MariaDB then holds what Redis lost).
            let rows = try database.connect()
            func written() throws -> Set<String> { Set(try rows.query("SELECT id FROM message").compactMap { $0[0] }) }
            try await eventually(within: 60) {
                if try written().isSuperset(of: everyReceived) { return true }
                try await Task.sleep(for: .milliseconds(300))
                return false
            }
            let persisted = try written()
            let persistedButLost = persisted.subtracting(everyReceived)
            #expect(persistedButLost.isSubset(of: everyLost), "\(persistedButLost.subtracting(everyLost).count) rows that were never accepted")
            #expect(try rows.query("SELECT COUNT(*) FROM message").first?[0] == String(persisted.count))
            print("cluster system failover (\(scenario)): MariaDB holds \(persisted.count) messages, \(persistedButLost.count) of them lost from Redis")
            for bridge in bridges { #expect(bridge.waitForExit(timeout: 0.1) == nil, "the bridges live through the failover") }
            #expect(persister.waitForExit(timeout: 0.1) == nil, "the persister lives through the failover")
            return results
        }
    }

    @Test("a primary killed under HTTP sends between and within partitions: recovery by itself, losses only of what the replica had not read, whole after the repairs otherwise, once in MariaDB",
          .timeLimit(.minutes(3)), arguments: [
              Scenario(), Scenario(replicaLag: .milliseconds(500)), Scenario(waitReplicas: 1),
          ])
    func primaryKilledUnderLoad(_ scenario: Scenario) async throws {
        _ = try await measure(scenario)
    }
}
