import RedisClient

/// One entry of a stream as XREADGROUP / XAUTOCLAIM return it.
struct StreamEntry: Sendable {
    /// The key it was read from: the stream on the plain layout, a partition's shard of
    /// it on a tagged one (what XACK, XPENDING and the dead letter name).
    let stream: String
    /// The stream it is an entry of (``StreamName/messages``…), whichever shard held it:
    /// what decoding and the metrics go by.
    let kind: String
    let id: String
    let fields: StreamEntryFields

    /// The bytes of its field names and values: what the batch byte budget counts.
    var byteCount: Int {
        var total = 0
        fields.forEachPair { name, value in total += name.count + value.count }
        return total
    }

    /// `stream` and `id` together name the entry in logs and the dead-letter stream.
    var reference: String { "\(stream) \(id)" }

    /// The milliseconds part of the id: when Redis added the entry.
    var milliseconds: Int64? { Self.milliseconds(ofID: id) }

    static func milliseconds(ofID id: String) -> Int64? {
        Int64(id.split(separator: "-", maxSplits: 1).first ?? "")
    }

    /// The `[[id, [field, value, …]], …]` part of a stream reply. Entries deleted while
    /// pending come back as `[id, nil]`; they have nothing to write and are skipped. The
    /// entries keep the reply: their fields are read where it holds them.
    static func entries(of stream: String, kind: String, in reply: RedisFlatReply, at list: RedisFlatReply.Position) -> [StreamEntry] {
        let items = reply.elements(of: list)
        var entries: [StreamEntry] = []
        entries.reserveCapacity(items.count)
        for item in items {
            let pair = reply.elements(of: item)
            var parts = pair.makeIterator()
            guard pair.count == 2, let idPosition = parts.next(), let fields = parts.next(),
                  reply.kind(at: fields) == .array, let id = reply.string(at: idPosition) else { continue }
            entries.append(StreamEntry(stream: stream, kind: kind, id: id, fields: StreamEntryFields(reply: reply, array: fields)))
        }
        return entries
    }
}

/// An entry's field/value pairs, read in place from the stream reply that carried them.
struct StreamEntryFields: Sendable {
    let reply: RedisFlatReply
    /// The flat `[field, value, …]` array.
    let array: RedisFlatReply.Position

    /// Fields given as texts (tests; entries built rather than read).
    init(_ dictionary: [String: String]) {
        reply = RedisFlatReply(.array(dictionary.flatMap { [RedisReply.bulk(Array($0.key.utf8)), .bulk(Array($0.value.utf8))] }))
        array = reply.root
    }

    init(reply: RedisFlatReply, array: RedisFlatReply.Position) {
        self.reply = reply
        self.array = array
    }

    /// The bytes the ranges of ``forEachPair(_:)`` point into.
    var bytes: [UInt8] { reply.bytes }

    /// Every pair's field and value as ranges of ``bytes``, in order; pairs that are not
    /// two strings are skipped.
    func forEachPair<Failure: Error>(_ body: (Range<Int>, Range<Int>) throws(Failure) -> Void) throws(Failure) {
        var elements = reply.elements(of: array).makeIterator()
        while let name = elements.next(), let value = elements.next() {
            guard let nameRange = reply.byteRange(at: name), let valueRange = reply.byteRange(at: value) else { continue }
            try body(nameRange, valueRange)
        }
    }

    /// The pairs as texts; a field given twice keeps its last value.
    var dictionary: [String: String] {
        var result: [String: String] = [:]
        let bytes = reply.bytes
        forEachPair { name, value in
            result[String(decoding: bytes[name], as: UTF8.self)] = String(decoding: bytes[value], as: UTF8.self)
        }
        return result
    }
}
