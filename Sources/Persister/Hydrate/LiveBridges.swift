import Model
import RedisClient

/// The bridge processes that count as alive: their last heartbeat in `chat:nodes` (scored
/// with Redis' own clock, `lua/node_heartbeat.lua`) is younger than the dead-after window
/// the bridges use themselves (three heartbeats). `persister hydrate` refuses to run
/// beside them: a change a bridge makes while the keys are rewritten may be undone.
struct LiveBridges: Sendable {
    /// Node id → milliseconds since its last heartbeat.
    let nodes: [(node: String, silentMilliseconds: Int64)]

    static func read(redis: RedisClient, deadAfterMilliseconds: Int64) async throws -> LiveBridges {
        let time = try await redis.send("TIME").throwingOnError().array ?? []
        let seconds = time.first.flatMap { $0.string.flatMap { Int64($0) } ?? $0.integer } ?? 0
        let micros = time.dropFirst().first.flatMap { $0.string.flatMap { Int64($0) } ?? $0.integer } ?? 0
        let now = seconds * 1000 + micros / 1000
        let reply = try await redis.send("ZRANGEBYSCORE", RedisKeys.nodes, String(now - deadAfterMilliseconds), "+inf", "WITHSCORES")
            .throwingOnError().array ?? []
        var nodes: [(String, Int64)] = []
        var index = 0
        while index + 1 < reply.count {
            if let node = reply[index].string, let beat = reply[index + 1].string.flatMap({ Double($0) }) {
                nodes.append((node, max(0, now - Int64(beat))))
            }
            index += 2
        }
        return LiveBridges(nodes: nodes)
    }

    var isEmpty: Bool { nodes.isEmpty }

    var description: String {
        nodes.map { "\($0.node) (last heartbeat \($0.silentMilliseconds) ms ago)" }.joined(separator: ", ")
    }
}
