import Model
import RedisClient

/// The bridge processes that count as alive: their last heartbeat in `chat:nodes` (scored
/// with Redis' own clock, `lua/node_heartbeat.lua`) is younger than the dead-after window
/// the bridges use themselves (three heartbeats). `persister hydrate` refuses to run
/// beside them: a change a bridge makes while the keys are rewritten may be undone.
struct LiveBridges: Sendable {
    /// Node id → milliseconds since its last heartbeat.
    let nodes: [(node: String, silentMilliseconds: Int64)]

    /// On a tagged layout every partition has its set of live processes
    /// (`keys.nodes(partition:)`), beside the plain `chat:nodes`: a process counts when any
    /// of them has it fresh.
    static func read(redis: RedisClient, keys: RedisKeys, deadAfterMilliseconds: Int64) async throws -> LiveBridges {
        let time = try await redis.send("TIME").throwingOnError().array ?? []
        let seconds = time.first.flatMap { $0.string.flatMap { Int64($0) } ?? $0.integer } ?? 0
        let micros = time.dropFirst().first.flatMap { $0.string.flatMap { Int64($0) } ?? $0.integer } ?? 0
        let now = seconds * 1000 + micros / 1000
        // The plain set too: wherever a bridge's heartbeat is, a live bridge is seen.
        var sets = [RedisKeys.nodes]
        for partition in 0..<keys.layout.partitions where !sets.contains(keys.nodes(partition: partition)) {
            sets.append(keys.nodes(partition: partition))
        }
        let replies = try await redis.pipeline(sets.map { set in
            RedisCommand("ZRANGEBYSCORE", set, String(now - deadAfterMilliseconds), "+inf", "WITHSCORES")
        })
        var silence: [String: Int64] = [:]
        var order: [String] = []
        for reply in replies {
            let members = try reply.throwingOnError().array ?? []
            var index = 0
            while index + 1 < members.count {
                if let node = members[index].string, let beat = members[index + 1].string.flatMap({ Double($0) }) {
                    let silent = max(0, now - Int64(beat))
                    if silence[node] == nil { order.append(node) }
                    silence[node] = min(silence[node] ?? silent, silent)
                }
                index += 2
            }
        }
        return LiveBridges(nodes: order.map { ($0, silence[$0]!) })
    }

    var isEmpty: Bool { nodes.isEmpty }

    var description: String {
        nodes.map { "\($0.node) (last heartbeat \($0.silentMilliseconds) ms ago)" }.joined(separator: ", ")
    }
}
