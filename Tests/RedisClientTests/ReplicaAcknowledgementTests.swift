import Foundation
import NIOCore
import NIOPosix
@testable import RedisClient
import TestSupport
import Testing

/// `WAIT` after a script run, on the same connection: what `--redis-wait-replicas` runs.
@Suite("Replica acknowledgement (WAIT after a script)", .offCooperativePool)
struct ReplicaAcknowledgementTests {
    struct Increment: RedisScriptCall {
        typealias Reply = Int64
        static let scriptName = "increment"
        static let script = RedisScript(name: scriptName, source: Array("return redis.call('INCRBY', KEYS[1], ARGV[1])".utf8))
        let key: String
        let by: Int
        var keyCount: Int { 1 }
        func encode(into command: inout RedisCommandArguments) {
            command.append(key)
            command.append(by)
        }
        static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Int64 {
            guard let value = reply.integer(at: reply.root) else { throw .server("not an integer: \(reply.reply)") }
            return value
        }
    }

    @Test("on a cluster a pipeline holding WAIT goes whole to its writes' slot; across slots it is refused")
    func routedWhole() throws {
        let write = Increment(key: "{p0}n", by: 1).command("EVALSHA", Increment.script.sha)
        let wait = ReplicaAcknowledgement(replicas: 1, timeoutMilliseconds: 100).command
        let units = try RedisClusterClient.units(of: [write, wait])
        #expect(units.count == 1)
        #expect(units[0].routing == .slot(HashSlot(key: "p0")))
        #expect(units[0].commands.count == 2)
        #expect(throws: RedisError.crossSlot(command: "WAIT")) {
            try RedisClusterClient.units(of: [write, Increment(key: "{p1}n", by: 1).command("EVALSHA", Increment.script.sha), wait])
        }
        // Without WAIT, each command is routed on its own as before.
        #expect(try RedisClusterClient.units(of: [write, RedisCommand("GET", "{p1}n")]).count == 2)
    }

    @Test("no replica: the reply after the timeout with 0; a replica: 1, and it holds the write; NOSCRIPT loads the script",
          .timeLimit(.minutes(1)))
    func waitsForTheReplica() async throws {
        let primary = try RedisServerProcess()
        let client = RedisClient(configuration: try .forTests(url: primary.url))
        defer { Task { await client.shutdown() } }
        let scripts = RedisScripts(client: client, scripts: [Increment.script])
        let wait = ReplicaAcknowledgement(replicas: 1, timeoutMilliseconds: 300)

        // Not loaded yet: NOSCRIPT, then EVAL, both followed by WAIT.
        let started = ContinuousClock.now
        let alone = try await scripts.run(Increment(key: "n", by: 5), acknowledgedBy: wait)
        #expect(alone.reply == 5 && alone.replicas == 0)
        #expect(ContinuousClock.now - started >= .milliseconds(300), "WAIT waited out its timeout for a replica")

        let replica = try RedisServerProcess(extraArguments: ["--replicaof", "127.0.0.1", "\(primary.port)"])
        try await eventually(within: 20) {
            let info = try await client.send("INFO", "replication").string ?? ""
            guard info.contains("connected_slaves:1") else { return false }
            return try await client.send("WAIT", 1, 100) == .integer(1)
        }
        // WAIT answers as soon as the replica acknowledges; beside a busy test run that took
        // longer than 300 ms, so the replica's part waits up to 5 s (a lost ack still fails).
        let patient = ReplicaAcknowledgement(replicas: 1, timeoutMilliseconds: 5000)
        for expected in Int64(6)...25 {
            let answer = try await scripts.run(Increment(key: "n", by: 1), acknowledgedBy: patient)
            #expect(answer.reply == expected && answer.replicas == 1)
        }
        let follower = RedisClient(configuration: try .forTests(url: replica.url))
        defer { Task { await follower.shutdown() } }
        #expect(try await follower.send("GET", "n") == .bulk(Array("25".utf8)), "acknowledged: on the replica when answered")

        // The event-loop path says the same.
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let answer = try await scripts.run(Increment(key: "n", by: 1), acknowledgedBy: patient, on: loop).get()
        #expect(answer.reply == 26 && answer.replicas == 1)
    }
}
