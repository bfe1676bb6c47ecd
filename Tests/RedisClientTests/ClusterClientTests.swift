import Foundation
import NIOCore
@testable import RedisClient
import TestSupport
import Testing

/// The cluster client against a real Redis Cluster of the test's own (three primaries,
/// one replica each): routing, cross-slot refusal, scripts on every primary, MOVED, ASK,
/// TRYAGAIN, a planned failover, a killed primary, AUTH.
@Suite("Redis Cluster client", .serialized, .offCooperativePool)
struct ClusterClientTests {
    /// The cluster's client as the processes make it: from the URL alone.
    func clusterClient(_ cluster: RedisClusterProcess, timeout: TimeAmount = .seconds(10)) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: cluster.url)
        configuration.poolSize = 2
        configuration.commandTimeout = timeout
        configuration.reconnectBackoff = .milliseconds(5) ... .milliseconds(100)
        return RedisClient(configuration: configuration)
    }

    /// A client of one node (redirections come back as error replies).
    func nodeClient(_ cluster: RedisClusterProcess, _ port: Int) throws -> RedisClient {
        let credentials = cluster.password.map { ":\($0)@" } ?? ""
        return RedisClient(configuration: try .forTests(url: "redis://\(credentials)127.0.0.1:\(port)/0"))
    }

    /// The slot map as a node reads it.
    func slotMap(_ cluster: RedisClusterProcess, askingPort port: Int) async throws -> ClusterSlotMap {
        let node = try nodeClient(cluster, port)
        defer { Task { await node.shutdown() } }
        return try ClusterSlotMap.fromClusterSlots(try await node.send("CLUSTER", "SLOTS"), askedHost: "127.0.0.1")
    }

    /// How often the node on `port` ran `command` since its stats were last reset
    /// (`rejected: true`: how often it refused it, a redirection among others).
    func calls(_ cluster: RedisClusterProcess, _ port: Int, _ command: String, rejected: Bool = false) throws -> Int {
        let stats = try cluster.send(port, ["INFO", "commandstats"])
        guard let line = stats.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("cmdstat_\(command):") }) else { return 0 }
        let field = rejected ? "rejected_calls" : "calls"
        for item in line.dropFirst("cmdstat_\(command):".count).split(separator: ",") {
            let parts = item.split(separator: "=")
            if parts.count == 2, parts[0] == field { return Int(parts[1]) ?? 0 }
        }
        return 0
    }

    @Test("keys go to their slot's primary, over all three; cross-slot commands never leave; transactions; keyless commands",
          .timeLimit(.minutes(2)))
    func routing() async throws {
        let cluster = try RedisClusterProcess()
        let redis = try clusterClient(cluster)
        defer { Task { await redis.shutdown() } }
        #expect(redis.isCluster)

        let keys = (0..<300).map { "key:\($0)" }
        for key in keys.prefix(100) { #expect(try await redis.send("SET", key, "v-\(key)") == .status("OK")) }
        let pipelined = try await redis.pipeline(keys.dropFirst(100).map { RedisCommand("SET", $0, "v-\($0)") })
        #expect(pipelined == Array(repeating: .status("OK"), count: 200))

        // Our slots are the server's.
        let serverSlots = try await redis.pipeline(keys.map { RedisCommand("CLUSTER", "KEYSLOT", $0) })
        #expect(serverSlots == keys.map { .integer(Int64(HashSlot(key: $0).rawValue)) })
        let tagged = ["{user1000}.following", "foo{}{bar}", "foo{{bar}}zap", "foo{bar}{zap}", "{}", "{", "}{a}", "", "ünï{cødé}"]
        #expect(try await redis.pipeline(tagged.map { RedisCommand("CLUSTER", "KEYSLOT", $0) })
            == tagged.map { .integer(Int64(HashSlot(key: $0).rawValue)) })

        // Each primary holds exactly the keys of its slots.
        let map = try await slotMap(cluster, askingPort: cluster.ports[0])
        #expect(map.primaries.count == 3 && map.coversAllSlots)
        for primary in map.primaries {
            let expected = keys.filter { map.primary(for: HashSlot(key: $0)) == primary }.count
            let node = try nodeClient(cluster, primary.port)
            #expect(try await node.send("DBSIZE") == .integer(Int64(expected)), "primary \(primary)")
            #expect(expected > 50, "300 keys spread over three primaries")
            await node.shutdown()
        }
        let values = try await redis.pipeline(keys.map { RedisCommand("GET", $0) })
        #expect(values == keys.map { .bulk(Array("v-\($0)".utf8)) })
        #expect(try await redis.sendFlat(RedisCommand("GET", "key:7")).reply == .bulk(Array("v-key:7".utf8)))

        // Keys of two slots: refused with a typed error, and no node ever saw the command.
        await #expect(throws: RedisError.crossSlot(command: "MGET")) { try await redis.send("MGET", "key:1", "key:2") }
        await #expect(throws: RedisError.crossSlot(command: "MULTI")) {
            try await redis.pipeline([RedisCommand("MULTI"), RedisCommand("INCR", "a"), RedisCommand("INCR", "b"), RedisCommand("EXEC")])
        }
        for port in cluster.ports {
            #expect(try cluster.send(port, ["INFO", "commandstats"]).contains("cmdstat_mget") == false)
            #expect(try cluster.send(port, ["INFO", "commandstats"]).contains("cmdstat_multi") == false)
        }
        // One tag, one slot: allowed.
        #expect(try await redis.send("MSET", "{t}1", "a", "{t}2", "b") == .status("OK"))
        #expect(try await redis.send("MGET", "{t}1", "{t}2") == .array([.bulk(Array("a".utf8)), .bulk(Array("b".utf8))]))
        let transaction = try await redis.pipeline([
            RedisCommand("MULTI"), RedisCommand("INCR", "{t}n"), RedisCommand("INCRBY", "{t}n", 10), RedisCommand("EXEC"),
        ])
        #expect(transaction == [.status("OK"), .status("QUEUED"), .status("QUEUED"), .array([.integer(1), .integer(11)])])
        #expect(try await redis.ping())
    }

    @Test("scripts: SCRIPT LOAD on every primary; after SCRIPT FLUSH, NOSCRIPT is answered by loading on that node",
          .timeLimit(.minutes(2)))
    func scriptsOnEveryPrimary() async throws {
        let cluster = try RedisClusterProcess()
        let redis = try clusterClient(cluster)
        defer { Task { await redis.shutdown() } }
        let script = RedisScript(name: "incr", source: Array("return redis.call('INCRBY', KEYS[1], ARGV[1])".utf8))
        let scripts = RedisScripts(client: redis, scripts: [script])
        let map = try await slotMap(cluster, askingPort: cluster.ports[0])
        // One key per primary.
        let keyOf = Dictionary(grouping: (0..<200).map { "s:\($0)" }) { map.primary(for: HashSlot(key: $0))! }.mapValues { $0[0] }
        #expect(keyOf.count == 3)

        func loadedEverywhere() async throws -> [Bool] {
            var loaded: [Bool] = []
            for primary in map.primaries {
                let node = try nodeClient(cluster, primary.port)
                loaded.append(try await node.send("SCRIPT", "EXISTS", script.sha) == .array([.integer(1)]))
                await node.shutdown()
            }
            return loaded
        }
        try await scripts.preload()
        #expect(try await loadedEverywhere() == [true, true, true])
        #expect(try await redis.send("SCRIPT", "FLUSH") == .status("OK"))
        #expect(try await loadedEverywhere() == [false, false, false])

        // A bare EVALSHA reaches the key's node and gets its NOSCRIPT.
        let bare = try await redis.send("EVALSHA", script.sha, 1, keyOf.values.first!, 1)
        #expect(bare.errorMessage?.hasPrefix("NOSCRIPT") == true)
        // Through the registry: loaded on the node that said NOSCRIPT, and run there.
        for (primary, key) in keyOf.sorted(by: { $0.key.port < $1.key.port }) {
            #expect(try await scripts.run("incr", keys: [key], arguments: [5]) == .integer(5), "\(primary)")
            #expect(try await scripts.run("incr", keys: [key], arguments: [1]) == .integer(6), "\(primary)")
        }
        #expect(try await loadedEverywhere() == [true, true, true])
        await #expect(throws: RedisError.crossSlot(command: "EVALSHA")) {
            try await scripts.run("incr", keys: Array(keyOf.values.prefix(2)), arguments: [1])
        }
    }

    @Test("a slot migrated: ASK (ASKING first, map unchanged), TRYAGAIN retried until the slot has moved, then MOVED",
          .timeLimit(.minutes(2)))
    func migration() async throws {
        let cluster = try RedisClusterProcess()
        let redis = try clusterClient(cluster)
        defer { Task { await redis.shutdown() } }
        let slot = Int(HashSlot(key: "m").rawValue)
        for index in 1...3 { #expect(try await redis.send("SET", "{m}\(index)", "v\(index)") == .status("OK")) }
        #expect(try await redis.send("SET", "{m}n", "0") == .status("OK"))

        let map = try await slotMap(cluster, askingPort: cluster.ports[0])
        let source = map.primary(for: HashSlot(key: "m"))!.port
        let target = map.primaries.first { $0.port != source }!.port
        let (sourceID, targetID) = (try cluster.nodeID(source), try cluster.nodeID(target))
        #expect(try cluster.send(target, ["CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", sourceID]) == "OK")
        #expect(try cluster.send(source, ["CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", targetID]) == "OK")
        #expect(try cluster.send(source, ["MIGRATE", "127.0.0.1", "\(target)", "", "0", "5000", "KEYS", "{m}1"]) == "OK")
        for port in [source, target] { _ = try cluster.send(port, ["CONFIG", "RESETSTAT"]) }

        // {m}1 has left: ASK sends it to the target, after ASKING.
        #expect(try await redis.send("GET", "{m}1") == .bulk(Array("v1".utf8)))
        #expect(try calls(cluster, target, "asking") == 1)
        // A new key of the slot is created on the target; the others still live on the source.
        #expect(try await redis.send("SET", "{m}9", "v9") == .status("OK"))
        #expect(try calls(cluster, target, "asking") == 2)
        #expect(try await redis.send("GET", "{m}2") == .bulk(Array("v2".utf8)))
        #expect(try cluster.send(target, ["CLUSTER", "COUNTKEYSINSLOT", "\(slot)"]) == "2")
        #expect(try cluster.send(source, ["CLUSTER", "COUNTKEYSINSLOT", "\(slot)"]) == "3")
        // The map did not change: {m}2 went straight to the source, which answered ASK for
        // {m}1 only.
        #expect(try calls(cluster, source, "get") == 1 && calls(cluster, source, "get", rejected: true) == 1)
        #expect(try calls(cluster, target, "get") == 1 && calls(cluster, target, "get", rejected: true) == 0)
        // A pipeline over the migrating slot is one write to the source; only the command
        // answered ASK is sent again (to the target): the INCR beside it runs once.
        for port in [source, target] { _ = try cluster.send(port, ["CONFIG", "RESETSTAT"]) }
        let mixed = try await redis.pipeline([RedisCommand("GET", "{m}1"), RedisCommand("INCR", "{m}n"), RedisCommand("GET", "{m}2")])
        #expect(mixed == [.bulk(Array("v1".utf8)), .integer(1), .bulk(Array("v2".utf8))])
        #expect(try calls(cluster, source, "incr") == 1 && calls(cluster, source, "get") == 1)
        #expect(try calls(cluster, source, "get", rejected: true) == 1 && calls(cluster, target, "get") == 1)
        #expect(try calls(cluster, target, "asking") == 1)

        // Keys of the slot split between two nodes: TRYAGAIN, retried until the deadline,
        // then the last answer stands.
        let short = try clusterClient(cluster, timeout: .milliseconds(600))
        // (its map read and its connection to the source open first, however long that
        // takes on a busy machine: a retry is made only when another attempt as long as
        // the last fits before the deadline)
        try await eventually(within: 10) { try await short.send("GET", "{m}2") == .bulk(Array("v2".utf8)) }
        let started = ContinuousClock.now
        let refused = try await short.send("MGET", "{m}1", "{m}2")
        #expect(refused.errorMessage?.hasPrefix("TRYAGAIN") == true)
        #expect(ContinuousClock.now - started >= .milliseconds(100))
        #expect(try calls(cluster, source, "mget", rejected: true) >= 3)
        #expect(try calls(cluster, source, "mget") == 0)
        await short.shutdown()

        // The same while the migration ends: it succeeds on the target, by MOVED.
        let waiting = Task { try await redis.send("MGET", "{m}1", "{m}2", "{m}3") }
        try await Task.sleep(for: .milliseconds(200))
        #expect(try cluster.send(source, ["MIGRATE", "127.0.0.1", "\(target)", "", "0", "5000", "KEYS", "{m}2", "{m}3", "{m}n"]) == "OK")
        for port in [target, source] + map.primaries.map(\.port).filter({ $0 != source && $0 != target }) {
            #expect(try cluster.send(port, ["CLUSTER", "SETSLOT", "\(slot)", "NODE", targetID]) == "OK")
        }
        #expect(try await waiting.value == .array(["v1", "v2", "v3"].map { .bulk(Array($0.utf8)) }))

        // After the MOVED the client reads the map again: the slot's commands go straight to
        // the target.
        try await eventually(within: 5) {
            _ = try cluster.send(source, ["CONFIG", "RESETSTAT"])
            for index in [1, 2, 3, 9] { _ = try await redis.send("GET", "{m}\(index)") }
            return try calls(cluster, source, "get", rejected: true) == 0
        }
        #expect(try calls(cluster, target, "get") >= 4)
        #expect(try await redis.send("GET", "{m}9") == .bulk(Array("v9".utf8)))
    }

    @Test("failover: planned (CLUSTER FAILOVER) without a failed command; a killed primary's replica takes over and writes land",
          .timeLimit(.minutes(3)))
    func failover() async throws {
        let cluster = try RedisClusterProcess(nodeTimeoutMilliseconds: 1000)
        let redis = try clusterClient(cluster)
        defer { Task { await redis.shutdown() } }
        let key = "{f}counter"
        let slot = Int(HashSlot(key: "f").rawValue)
        #expect(try await redis.send("INCR", key) == .integer(1))

        // Planned: the replica takes over, the old primary answers MOVED.
        let primary = try cluster.primary(ofSlot: slot)
        let replica = try #require(try cluster.roles().replicaOf.first { $0.value == primary }?.key)
        try cluster.failover(toReplica: replica)
        try await eventually(within: 10) { try cluster.primary(ofSlot: slot) == replica }
        for expected in 2...21 { #expect(try await redis.send("INCR", key) == .integer(Int64(expected))) }
        try cluster.waitUntilHealthy()

        // Unplanned: the primary is killed. The next command waits out the election and
        // lands on the promoted replica.
        let killed = replica
        let heir = try #require(try cluster.roles().replicaOf.first { $0.value == killed }?.key)
        #expect(heir == primary)
        cluster.kill(killed)
        let started = ContinuousClock.now
        // A command written on the killed primary's socket before the client saw it close
        // fails (for all the client knows it ran: never sent again blindly); the next one
        // waits out the election.
        var first: RedisReply
        do {
            first = try await redis.send("INCR", key)
        } catch {
            #expect(error == .connectionClosed, "\(error)")
            first = try await redis.send("INCR", key)
        }
        #expect(first == .integer(22))
        let recovery = ContinuousClock.now - started
        print("cluster failover: a write after the primary's kill answered in \(recovery)")
        #expect(recovery < .seconds(8), "the replica takes over in about three seconds with a 1 s node timeout")
        #expect(try cluster.primary(ofSlot: slot, askingPort: heir) == heir)
        for expected in 23...72 { #expect(try await redis.send("INCR", key) == .integer(Int64(expected))) }
        let node = try nodeClient(cluster, heir)
        #expect(try await node.send("GET", key) == .bulk(Array("72".utf8)))
        await node.shutdown()

        // The killed node comes back as the new primary's replica.
        try cluster.restart(killed)
        try cluster.waitUntilHealthy()
        #expect(try cluster.roles().replicaOf[killed] == heir)
        #expect(try await redis.send("INCR", key) == .integer(73))
    }

    @Test("AUTH from the URL on every node; a wrong password fails with .unreachable", .timeLimit(.minutes(2)))
    func auth() async throws {
        let cluster = try RedisClusterProcess(password: "s3cret")
        let redis = try clusterClient(cluster)
        defer { Task { await redis.shutdown() } }
        let keys = (0..<30).map { "auth:\($0)" }
        #expect(try await redis.pipeline(keys.map { RedisCommand("SET", $0, $0) }) == Array(repeating: .status("OK"), count: 30))
        #expect(try await redis.pipeline(keys.map { RedisCommand("GET", $0) }) == keys.map { .bulk(Array($0.utf8)) })
        let map = try await slotMap(cluster, askingPort: cluster.ports[1])
        #expect(Set(keys.compactMap { map.primary(for: HashSlot(key: $0)) }).count == 3)

        var wrong = try RedisConfiguration(url: cluster.url.replacingOccurrences(of: "s3cret", with: "wrong"))
        wrong.commandTimeout = .seconds(2)
        let refused = RedisClient(configuration: wrong)
        await #expect {
            _ = try await refused.send("GET", "auth:1")
        } throws: { error in
            guard case .unreachable(let detail) = error as? RedisError else { return false }
            return detail.contains("CLUSTER SLOTS")
        }
        await refused.shutdown()
    }
}
