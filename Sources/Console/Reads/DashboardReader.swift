import Model
import RedisClient

/// Reads the dashboard in two round trips: the clock, the live processes and their
/// statistics (`chat:nodes`, `chat:nodes:stats`), the three streams' length, lag and
/// pending (`XLEN`, `XINFO GROUPS`) and the dead letters in one pipeline; then the last 60
/// minutes' message counters (`MGET chat:stats:messages:{minute}`, minutes of Redis' clock).
/// On a tagged layout a process beats in every partition and records its figures in
/// partition 0's keys (read there); each stream's figures are its shards', summed.
struct DashboardReader: Sendable {
    static let streams = [StreamName.messages, StreamName.entities, StreamName.privateEntities]
    static let minutes = 60

    let redis: RedisClient
    let keys: RedisKeys
    /// A process silent this long is not live: three heartbeats (`--heartbeat-ms`).
    let liveWithinMilliseconds: Int64

    func read() async throws -> Dashboard {
        var commands = [
            RedisCommand("TIME"), RedisCommand("ZRANGE", keys.nodes(partition: 0), "0", "-1", "WITHSCORES"),
            RedisCommand("HGETALL", keys.nodeStats), RedisCommand("XLEN", DeadLetter.stream),
        ]
        let shards = Self.streams.map(keys.shards(of:))
        for shard in shards.joined() {
            commands.append(RedisCommand("XLEN", shard))
            commands.append(RedisCommand("XINFO", "GROUPS", shard))
        }
        let replies = try await redis.pipeline(commands)
        guard let time = replies[0].array, time.count == 2, let seconds = time[0].integer, let micros = time[1].integer else {
            throw RedisError.protocolError("TIME answered \(replies[0])")
        }
        let now = seconds * 1000 + micros / 1000
        let stats = try replies[2].throwingOnError().fieldValues
        var nodes: [Dashboard.Node] = []
        let beats = try replies[1].throwingOnError().array ?? []
        for index in stride(from: 0, to: beats.count - 1, by: 2) {
            guard let id = beats[index].string, let beat = beats[index + 1].string.flatMap(Double.init) else { continue }
            let age = now - Int64(beat)
            guard age <= liveWithinMilliseconds else { continue }
            var sockets = 0, users = 0
            if let text = stats[id], case .object(let row) = try? JSONParser.parse(text) {
                if case .integer(let value)? = row["sockets"] { sockets = Int(value) }
                if case .integer(let value)? = row["users"] { users = Int(value) }
            }
            nodes.append(Dashboard.Node(id: id, sockets: sockets, users: users, age: Int(max(0, age) / 1000)))
        }
        let deadLetters = Int(replies[3].integer ?? 0)
        var streams: [Dashboard.Stream] = []
        var reply = 4
        for (name, names) in zip(Self.streams, shards) {
            var length = 0, pending = 0, lag: Int? = 0, grouped = false
            for _ in names {
                length += Int(replies[reply].integer ?? 0)
                if let group = Self.persisterGroup(in: replies[reply + 1]) {
                    grouped = true
                    pending += group.pending
                    lag = lag.flatMap { sum in group.lag.map { sum + $0 } }
                }
                reply += 2
            }
            if !grouped { lag = nil }
            streams.append(Dashboard.Stream(
                name: name, length: length, lag: lag, pending: pending,
                lagText: !grouped ? "—" : lag.map(String.init) ?? "?"
            ))
        }
        let minute = now / 60_000
        let counters = (0..<Int64(Self.minutes)).reversed().map { keys.messagesInMinute(minute - $0) }
        let counts = try await redis.send(.texts("MGET", counters)).throwingOnError().array ?? []
        let minutes = (0..<Self.minutes).map { index in
            Dashboard.Minute(
                minute: minute - Int64(Self.minutes - 1 - index),
                count: index < counts.count ? Int(counts[index].integer ?? 0) : 0
            )
        }
        return Dashboard(nodes: nodes, streams: streams, minutes: minutes, deadLetters: deadLetters)
    }

    /// The persister's group in an `XINFO GROUPS` reply (nil: no group, or no stream yet).
    private static func persisterGroup(in reply: RedisReply) -> (lag: Int?, pending: Int)? {
        for group in reply.array ?? [] {
            let items = group.array ?? []
            var fields: [String: RedisReply] = [:]
            for index in stride(from: 0, to: items.count - 1, by: 2) {
                if let key = items[index].string { fields[key] = items[index + 1] }
            }
            guard fields["name"]?.string == StreamName.persisterGroup else { continue }
            let lag = fields["lag"].flatMap { $0.isNull ? nil : $0.integer }.map { Int($0) }
            return (lag, Int(fields["pending"]?.integer ?? 0))
        }
        return nil
    }
}
