import RedisClient

/// One entry of a stream as XREADGROUP / XAUTOCLAIM return it.
struct StreamEntry: Sendable, Hashable {
    let stream: String
    let id: String
    /// The field/value pairs; a field given twice keeps its last value.
    let fields: [String: String]

    /// `stream` and `id` together name the entry in logs and the dead-letter stream.
    var reference: String { "\(stream) \(id)" }

    /// The milliseconds part of the id: when Redis added the entry.
    var milliseconds: Int64? { Self.milliseconds(ofID: id) }

    static func milliseconds(ofID id: String) -> Int64? {
        Int64(id.split(separator: "-", maxSplits: 1).first ?? "")
    }

    /// The `[[id, [field, value, …]], …]` part of a stream reply. Entries deleted while
    /// pending come back as `[id, nil]`; they have nothing to write and are skipped.
    static func entries(of stream: String, from reply: RedisReply) -> [StreamEntry] {
        guard let items = reply.array else { return [] }
        var entries: [StreamEntry] = []
        entries.reserveCapacity(items.count)
        for item in items {
            guard let pair = item.array, pair.count == 2, let id = pair[0].string, pair[1].array != nil else { continue }
            entries.append(StreamEntry(stream: stream, id: id, fields: pair[1].fieldValues))
        }
        return entries
    }

    /// The ids of a stream reply's entries deleted while pending (`[id, nil]`).
    static func deletedIDs(from reply: RedisReply) -> [String] {
        (reply.array ?? []).compactMap { item in
            guard let pair = item.array, pair.count == 2, pair[1].isNull else { return nil }
            return pair[0].string
        }
    }
}
