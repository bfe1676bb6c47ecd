import RedisClient

/// One consumer group of a stream, as `persister status` and the lag metrics see it.
struct GroupStatus: Sendable, Codable, Hashable {
    let name: String
    let consumers: Int
    /// Entries delivered to a consumer and not acknowledged yet.
    let pending: Int
    /// Entries not delivered yet (Redis' count; nil when it cannot tell, after deletions).
    let lag: Int?
    let lastDeliveredID: String
    let oldestPendingID: String?
    /// Age of the oldest entry this group has not acknowledged (pending, else the first
    /// undelivered one); 0 when it is up to date.
    let lagSeconds: Double
    /// The first entry the group still needs (its oldest pending, else its first
    /// undelivered); nil when it needs none of the entries there are.
    let oldestNeededID: String?
}

struct StreamStatus: Sendable, Codable, Hashable {
    let stream: String
    let length: Int
    let firstEntryID: String?
    let lastEntryID: String?
    /// Every entry ever added, and the newest id removed (trimmed or deleted).
    let entriesAdded: Int64
    let maxDeletedEntryID: String
    let groups: [GroupStatus]

    func group(_ name: String) -> GroupStatus? { groups.first { $0.name == name } }

    /// Reads the stream's state: XINFO STREAM, XINFO GROUPS, then per group XPENDING or
    /// one XRANGE. `nowMilliseconds` is Redis' clock (entry ids are too).
    static func read(_ stream: String, redis: RedisClient, nowMilliseconds: Int64) async throws -> StreamStatus {
        let info = try await redis.send("XINFO", "STREAM", stream)
        if let message = info.errorMessage {
            if message.contains("no such key") {
                return StreamStatus(stream: stream, length: 0, firstEntryID: nil, lastEntryID: nil, entriesAdded: 0, maxDeletedEntryID: "0-0", groups: [])
            }
            throw RedisError.server(message)
        }
        let fields = Self.map(info)
        let firstID = fields["first-entry"]?.array?.first?.string
        let lastID = fields["last-entry"]?.array?.first?.string
        let groupReplies = try await redis.send("XINFO", "GROUPS", stream).throwingOnError()
        var groups: [GroupStatus] = []
        for groupReply in groupReplies.array ?? [] {
            let group = Self.map(groupReply)
            guard let name = group["name"]?.string else { continue }
            let pending = Int(group["pending"]?.integer ?? 0)
            let lastDelivered = group["last-delivered-id"]?.string ?? "0-0"
            var oldestPending: String?
            if pending > 0 {
                let summary = try await redis.send("XPENDING", stream, name).throwingOnError()
                oldestPending = summary.array.flatMap { $0.count > 1 ? $0[1].string : nil }
            }
            var oldestNeeded = oldestPending
            if oldestNeeded == nil {
                let next = try await redis.send("XRANGE", stream, "(" + lastDelivered, "+", "COUNT", "1").throwingOnError()
                oldestNeeded = next.array?.first?.array?.first?.string
            }
            let age = oldestNeeded.flatMap(StreamEntry.milliseconds(ofID:)).map { max(0, Double(nowMilliseconds - $0) / 1000) } ?? 0
            groups.append(GroupStatus(
                name: name, consumers: Int(group["consumers"]?.integer ?? 0), pending: pending,
                lag: group["lag"].flatMap { $0.isNull ? nil : $0.integer }.map { Int($0) },
                lastDeliveredID: lastDelivered, oldestPendingID: oldestPending, lagSeconds: age, oldestNeededID: oldestNeeded
            ))
        }
        return StreamStatus(
            stream: stream, length: Int(fields["length"]?.integer ?? 0), firstEntryID: firstID, lastEntryID: lastID,
            entriesAdded: fields["entries-added"]?.integer ?? 0,
            maxDeletedEntryID: fields["max-deleted-entry-id"]?.string ?? "0-0", groups: groups
        )
    }

    /// Redis' clock in milliseconds (TIME).
    static func now(redis: RedisClient) async throws -> Int64 {
        let time = try await redis.send("TIME").throwingOnError()
        guard let parts = time.array, parts.count == 2, let seconds = parts[0].integer, let micros = parts[1].integer else {
            throw RedisError.protocolError("TIME answered \(time)")
        }
        return seconds * 1000 + micros / 1000
    }

    /// A flat key/value reply (XINFO) as a dictionary of replies.
    private static func map(_ reply: RedisReply) -> [String: RedisReply] {
        guard let items = reply.array else { return [:] }
        var result: [String: RedisReply] = [:]
        var index = 0
        while index + 1 < items.count {
            if let key = items[index].string { result[key] = items[index + 1] }
            index += 2
        }
        return result
    }
}

/// Compares stream ids (`ms-seq`) numerically.
enum StreamID {
    static func parse(_ id: String) -> (UInt64, UInt64)? {
        let parts = id.split(separator: "-", maxSplits: 1)
        guard let ms = parts.first.flatMap({ UInt64($0) }) else { return nil }
        let seq = parts.count > 1 ? UInt64(parts[1]) : 0
        guard let seq else { return nil }
        return (ms, seq)
    }

    static func less(_ a: String, _ b: String) -> Bool {
        guard let x = parse(a), let y = parse(b) else { return false }
        return x < y
    }
}
