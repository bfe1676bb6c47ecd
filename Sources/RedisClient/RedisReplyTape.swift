/// Where hiredis' parser writes the replies it reads (``HiredisReader``): values appended
/// in the order hiredis creates them, which is depth-first — an array before its
/// elements — and string bytes copied out of hiredis' buffer at once. Both arrays are
/// reused from read to read, so parsing allocates nothing per element.
struct RedisReplyTape {
    private(set) var values: [RedisFlatReply.Value] = []
    private(set) var bytes: [UInt8] = []
    /// Arrays still waiting for elements, innermost last.
    private var open: [(index: Int, remaining: UInt32)] = []

    mutating func appendString(_ kind: RedisFlatReply.Kind, _ text: UnsafeRawBufferPointer) {
        let offset = bytes.count
        bytes.append(contentsOf: text)
        add(RedisFlatReply.Value(kind: kind, length: UInt32(text.count), end: 0, payload: Int64(offset)))
    }

    mutating func appendInteger(_ value: Int64) {
        add(RedisFlatReply.Value(kind: .integer, length: 0, end: 0, payload: value))
    }

    mutating func appendNull() {
        add(RedisFlatReply.Value(kind: .null, length: 0, end: 0, payload: 0))
    }

    mutating func appendArray(count: Int) {
        add(RedisFlatReply.Value(kind: .array, length: UInt32(count), end: 0, payload: 0))
    }

    mutating func append(_ reply: RedisReply) {
        switch reply {
        case .null: appendNull()
        case .integer(let value): appendInteger(value)
        case .bulk(let bytes): bytes.withUnsafeBytes { appendString(.bulk, $0) }
        case .status(let text): Array(text.utf8).withUnsafeBytes { appendString(.status, $0) }
        case .error(let text): Array(text.utf8).withUnsafeBytes { appendString(.error, $0) }
        case .array(let elements):
            appendArray(count: elements.count)
            for element in elements { append(element) }
        }
    }

    /// Values on the tape (the tests check that consumed replies are dropped).
    var count: Int { values.count }

    private mutating func add(_ value: RedisFlatReply.Value) {
        let index = values.count
        var value = value
        value.end = UInt32(index + 1)
        values.append(value)
        if !open.isEmpty { open[open.count - 1].remaining -= 1 }
        if value.kind == .array && value.length > 0 {
            open.append((index, value.length))
            return
        }
        // The value may have been the last element of its array, and that array the last
        // of its own, and so on.
        while let innermost = open.last, innermost.remaining == 0 {
            values[innermost.index].end = UInt32(values.count)
            open.removeLast()
        }
    }

    /// The reply whose root value is at `root`.
    func reply(at root: Int) -> RedisFlatReply {
        RedisFlatReply(values: values, bytes: bytes, root: root)
    }

    /// Forgets the replies before `index` (read and handed on), keeping the reply being
    /// parsed, and the arrays' capacity when nobody holds on to them.
    mutating func removeValues(before index: Int) {
        guard index > 0 else { return }
        guard index < values.count else {
            values.removeAll(keepingCapacity: true)
            bytes.removeAll(keepingCapacity: true)
            return
        }
        // A reply split over reads: what is kept is one partial reply, usually small.
        let firstByte = values[index...].lazy.compactMap { value -> Int? in
            switch value.kind {
            case .bulk, .status, .error: Int(value.payload)
            case .null, .integer, .array: nil
            }
        }.first ?? bytes.count
        values.removeSubrange(0..<index)
        bytes.removeSubrange(0..<firstByte)
        for position in values.indices {
            values[position].end -= UInt32(index)
            switch values[position].kind {
            case .bulk, .status, .error: values[position].payload -= Int64(firstByte)
            case .null, .integer, .array: break
            }
        }
        for position in open.indices { open[position].index -= index }
    }

    mutating func removeAll() {
        values.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
        open.removeAll(keepingCapacity: true)
    }
}
