import Model
import RedisClient

/// The persister's side of the consumer group protocol on its streams: reading,
/// claiming a dead consumer's entries, acknowledging, dead-lettering.
struct StreamConsumer: Sendable {
    /// The two public streams and the private one with the whole `user` rows
    /// (docs/architecture.md, *Streams*).
    static let streams = [StreamName.entities, StreamName.messages, StreamName.privateEntities]
    /// Entries that kept failing, with the reason; see the docs/operations.md, *Persister commands*.
    static let deadLetterStream = "chat:stream:deadletter"

    let group: String
    let consumer: String
    /// Blocking reads wait on a connection of their own, so they hold up nothing else.
    let reader: RedisClient
    let redis: RedisClient

    /// Creates the group on each stream (and the stream) if missing; the group starts at
    /// the stream's beginning, so a backlog written before the first run is drained.
    func createGroups() async throws {
        for stream in Self.streams {
            let reply = try await redis.send("XGROUP", "CREATE", stream, group, "0", "MKSTREAM")
            if let message = reply.errorMessage, !message.hasPrefix("BUSYGROUP") {
                throw RedisError.server(message)
            }
        }
    }

    /// New entries of the streams, up to `count` per stream, waiting up to `block` for
    /// the first (zero: not at all).
    func read(count: Int, block: Duration) async throws -> [StreamEntry] {
        var arguments: [any RedisArgument] = ["GROUP", group, consumer, "COUNT", String(count)]
        if block > .zero { arguments += ["BLOCK", String(max(1, block.milliseconds))] }
        arguments += ["STREAMS"] + Self.streams.map { $0 as any RedisArgument } + Self.streams.map { _ in ">" as any RedisArgument }
        // Flat: a full batch is thousands of entries, read in place rather than as a tree.
        let reply = try await reader.sendFlat(RedisCommand("XREADGROUP", arguments)).throwingOnError()
        var entries: [StreamEntry] = []
        for streamReply in reply.elements(of: reply.root) {
            var pair = reply.elements(of: streamReply).makeIterator()
            guard let name = pair.next(), let list = pair.next(), let stream = reply.string(at: name) else { continue }
            entries += StreamEntry.entries(of: stream, in: reply, at: list)
        }
        return entries
    }

    /// Takes over entries other consumers (dead ones, or this one before a restart)
    /// left pending longer than `minIdle`; `cursors` carries each stream's scan position
    /// from call to call.
    func claim(minIdle: Duration, count: Int, cursors: inout [String: String]) async throws -> [StreamEntry] {
        var entries: [StreamEntry] = []
        for stream in Self.streams {
            let start = cursors[stream] ?? "0-0"
            let reply = try await redis.sendFlat(RedisCommand(
                "XAUTOCLAIM", stream, group, consumer, String(max(0, minIdle.milliseconds)), start, "COUNT", String(count)
            )).throwingOnError()
            var parts = reply.elements(of: reply.root).makeIterator()
            guard let cursor = parts.next(), let list = parts.next() else { continue }
            cursors[stream] = reply.string(at: cursor) ?? "0-0"
            entries += StreamEntry.entries(of: stream, in: reply, at: list)
        }
        return entries
    }

    /// Acknowledges the entries (one XACK per stream, pipelined).
    func acknowledge(_ entries: [StreamEntry]) async throws {
        var byStream: [String: [String]] = [:]
        for entry in entries { byStream[entry.stream, default: []].append(entry.id) }
        let commands = byStream.map { stream, ids in
            RedisCommand("XACK", [stream, group] + ids.map { $0 as any RedisArgument })
        }
        for reply in try await redis.pipeline(commands) { try reply.throwingOnError() }
    }

    /// How many times Redis has delivered the entry (XREADGROUP, XAUTOCLAIM); 0 when it
    /// is not pending any more.
    func deliveries(of entry: StreamEntry) async throws -> Int {
        let reply = try await redis.send("XPENDING", entry.stream, group, entry.id, entry.id, "1")
        guard let first = reply.array?.first?.array, first.count >= 4 else { return 0 }
        return Int(first[3].integer ?? 0)
    }

    /// Moves the entry to the dead-letter stream with the reason and acknowledges it, in
    /// one MULTI: it is never both lost and acknowledged, nor dead-lettered twice by a
    /// crash between the two.
    func deadLetter(_ entry: StreamEntry, error: String, attempts: Int, hardCap: Int) async throws {
        var fields: [any RedisArgument] = [
            Self.deadLetterStream, "MAXLEN", "~", String(hardCap), "*",
            "stream", entry.stream, "entry", entry.id, "attempts", String(attempts), "error", error,
            "consumer", consumer,
        ]
        for (field, value) in entry.fields.dictionary.sorted(by: { $0.key < $1.key }) {
            fields.append("field." + field)
            fields.append(value)
        }
        let replies = try await redis.pipeline([
            RedisCommand("MULTI"),
            RedisCommand("XADD", fields),
            RedisCommand("XACK", entry.stream, group, entry.id),
            RedisCommand("EXEC"),
        ])
        for reply in replies { try reply.throwingOnError() }
        if let results = replies.last?.array {
            for reply in results { try reply.throwingOnError() }
        }
    }
}
