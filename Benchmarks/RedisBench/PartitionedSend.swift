import ChatScripts
import Foundation
import Model
import RedisClient

/// Single sends on a partitioned layout as the bridge makes them (scripts/bench-cluster.sh,
/// `SEND_PAIRS=cross`): for a pair in one partition ONE run of `message_send_single`; for a
/// pair in two partitions the three steps of `SingleSendSteps` in its order — the
/// sender's (`BeginSingleSend`), the recipient's (`ApplySingleSend`), the sender's again
/// (`FinishSingleSend`) — each run where its keys are, the next one built from the
/// previous one's reply (so redis-benchmark cannot drive them). The accounts are written
/// here first: rows, friends both ways, the recipient online on the `bench` node (the
/// caller's: the `local` route, as bench-chat's ceiling). No token to check, no client id
/// (an HTTP send whose token the bridge checked).
struct PartitionedSendWorkload: Sendable {
    struct Pair: Sendable {
        let sender: Int
        let recipient: Int
    }

    let keys: RedisKeys
    let pairs: [Pair]
    let settings = SendSettings(
        clientIDWindow: 300, historyCap: 1000, streamCap: 5_000_000, node: "bench", deadAfter: 15_000,
        queueCap: 5000, queueByteCap: 16 << 20
    )

    /// `sender:recipient,…`.
    init(partitions: Int, pairs spec: String) throws {
        keys = RedisKeys(layout: KeyLayout(partitionTags: PartitionTags.evenlySpaced(count: partitions)))
        pairs = try spec.split(separator: ",").map { text in
            let ids = text.split(separator: ":").compactMap { Int($0) }
            guard ids.count == 2, ids[0] != ids[1] else { throw BenchFailure("--send-pairs: 'sender:recipient,…', not '\(text)'") }
            return Pair(sender: ids[0], recipient: ids[1])
        }
        guard !pairs.isEmpty else { throw BenchFailure("--send-pairs: no pairs") }
    }

    /// The accounts of every pair, friends, the recipients online on `bench`.
    func prepare(_ redis: RedisClient) async throws {
        for pair in pairs {
            for (user, peer) in [(pair.sender, pair.recipient), (pair.recipient, pair.sender)] {
                try await redis.send(
                    "HSET", keys.user(user), "status", "1", "role", "user", "nickname", "n\(user)", "username", "u\(user)",
                    "avatar", "", "uuid", "uuid-\(user)", "_v", "1"
                ).throwingOnError()
                try await redis.send(
                    "HSET", keys.friends(user), String(peer), #"{"user_id":\#(user),"friend_id":\#(peer),"status":1,"isblack":0}"#
                ).throwingOnError()
            }
            try await redis.send("SET", keys.online(pair.recipient), "bench:1").throwingOnError()
            let partition = keys.layout.partition(ofUser: pair.recipient)
            try await redis.send("ZADD", keys.nodes(partition: partition), "99999999999999", "bench").throwingOnError()
        }
    }

    /// Sends message `number` (pairs in turn); true when accepted.
    func send(_ number: Int, scripts: RedisScripts) async throws -> Bool {
        let pair = pairs[number % pairs.count]
        let send = SendSingleMessage(
            keys: keys, messageID: UUID().uuidString.lowercased(), sender: pair.sender, recipient: pair.recipient, type: "text",
            data: Array("\"bench message \(number)\"".utf8), options: Array("null".utf8), uncheckedToken: nil, clientID: nil,
            isAutoReply: false, settings: settings
        )
        let layout = keys.layout
        guard layout.partition(ofUser: pair.sender) != layout.partition(ofUser: pair.recipient) else {
            if case .accepted = try await scripts.run(send) { return true }
            return false
        }
        let begin = BeginSingleSend(keys: keys, send: send)
        guard case .pending(let decoded) = try await scripts.run(begin) else { return false }
        let facts = begin.facts(of: decoded)
        let applied = try await scripts.run(ApplySingleSend(keys: keys, messageID: send.messageID, facts: facts, settings: settings))
        let outcome: FinishSingleSend.Outcome
        switch applied {
        case .accepted(let message, _, _, let quotaUsed): outcome = .accepted(message: message, quotaUsed: quotaUsed)
        case .refused: outcome = .refused
        }
        _ = try await scripts.run(FinishSingleSend(
            keys: keys, messageID: send.messageID, sender: pair.sender, recipient: pair.recipient, clientID: nil,
            outcome: outcome, settings: settings
        ))
        if case .accepted = applied { return true }
        return false
    }
}

extension RedisBench {
    /// `requests` sends by `connections` × `depth` tasks, each one send at a time (a send's
    /// steps follow each other), over the pool's `connections` per node: the sends under way
    /// share them, pipelined, as a bridge's do. Prints `rate=… accepted=… refused=…`.
    func partitionedSend(redis: RedisClient, scripts: RedisScripts) async throws {
        guard let sendPairs else { throw BenchFailure("send-steps needs --send-pairs") }
        let workload = try PartitionedSendWorkload(partitions: partitions, pairs: sendPairs)
        try await workload.prepare(redis)
        let numbers = MessageNumbers()
        let requests = requests
        let clock = ContinuousClock()
        let start = clock.now
        let counts = try await withThrowingTaskGroup(of: (Int, Int).self) { tasks in
            for _ in 0..<(connections * depth) {
                tasks.addTask {
                    var (accepted, refused) = (0, 0)
                    while true {
                        let number = numbers.take(1)
                        guard number < requests else { return (accepted, refused) }
                        if try await workload.send(number, scripts: scripts) { accepted += 1 } else { refused += 1 }
                    }
                }
            }
            var total = (0, 0)
            for try await (accepted, refused) in tasks { total = (total.0 + accepted, total.1 + refused) }
            return total
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "rate=%.0f accepted=%d refused=%d", Double(counts.0) / seconds, counts.0, counts.1))
    }
}
