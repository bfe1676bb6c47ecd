/// A reply laid out flat: its values in depth-first order in one array, the bytes of all
/// its strings side by side in another.
///
/// hiredis' parser writes replies this way (``RedisReplyTape``), so a reply of thousands
/// of elements — a stream read — costs no allocation per element, and a caller that asks
/// for it (``RedisClient/sendFlat(_:isolation:)``) reads the strings where they lie
/// instead of getting a ``RedisReply`` tree of arrays. The arrays may hold other replies
/// read in the same network read; ``root`` says where this one is.
public struct RedisFlatReply: Sendable {
    public enum Kind: UInt8, Sendable {
        case null
        case integer
        case bulk
        case status
        case error
        case array
    }

    /// One value. Strings: `length` bytes at `payload`; integers: `payload`; arrays:
    /// `length` elements, which follow it, and `end`, the index after its last descendant.
    struct Value {
        var kind: Kind
        var length: UInt32
        var end: UInt32
        var payload: Int64
    }

    /// A value of the reply.
    public struct Position: Hashable, Sendable {
        let index: Int
    }

    let values: [Value]
    /// The strings' bytes, unescaped, exactly as Redis sent them.
    public let bytes: [UInt8]
    public let root: Position

    init(values: [Value], bytes: [UInt8], root: Int) {
        self.values = values
        self.bytes = bytes
        self.root = Position(index: root)
    }

    /// Lays out a reply tree (tests; replies that were built rather than read).
    public init(_ reply: RedisReply) {
        var tape = RedisReplyTape()
        tape.append(reply)
        self.init(values: tape.values, bytes: tape.bytes, root: 0)
    }

    public func kind(at position: Position) -> Kind {
        values[position.index].kind
    }

    /// An array's elements; none for anything else.
    public func elements(of position: Position) -> Elements {
        let value = values[position.index]
        guard value.kind == .array else { return Elements(values: values, start: position.index + 1, count: 0) }
        return Elements(values: values, start: position.index + 1, count: Int(value.length))
    }

    /// Where a bulk, status or error string's bytes are in ``bytes``; nil for other kinds.
    public func byteRange(at position: Position) -> Range<Int>? {
        let value = values[position.index]
        switch value.kind {
        case .bulk, .status, .error:
            let start = Int(value.payload)
            return start..<(start + Int(value.length))
        case .null, .integer, .array:
            return nil
        }
    }

    /// A string's text (invalid UTF-8 repaired); nil for other kinds.
    public func string(at position: Position) -> String? {
        byteRange(at: position).map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    /// An integer, or a bulk string holding one (as ``RedisReply/integer``).
    public func integer(at position: Position) -> Int64? {
        let value = values[position.index]
        switch value.kind {
        case .integer: return value.payload
        case .bulk: return string(at: position).flatMap { Int64($0) }
        default: return nil
        }
    }

    /// The server's error message, if the value is an error.
    public func errorMessage(at position: Position) -> String? {
        kind(at: position) == .error ? string(at: position) : nil
    }

    /// The reply itself, or `.server(message)` when it is an error (as
    /// ``RedisReply/throwingOnError()``).
    @discardableResult
    public func throwingOnError() throws(RedisError) -> RedisFlatReply {
        if let message = errorMessage(at: root) { throw .server(message) }
        return self
    }

    /// The value as a tree.
    public func reply(at position: Position) -> RedisReply {
        let value = values[position.index]
        switch value.kind {
        case .null: return .null
        case .integer: return .integer(value.payload)
        case .bulk: return .bulk(Array(bytes[byteRange(at: position)!]))
        case .status: return .status(string(at: position)!)
        case .error: return .error(string(at: position)!)
        case .array: return .array(elements(of: position).map { reply(at: $0) })
        }
    }

    /// The whole reply as a tree.
    public var reply: RedisReply { reply(at: root) }

    /// The positions of an array's elements, in order; each step skips the element's
    /// descendants.
    public struct Elements: Sequence, Sendable {
        let values: [Value]
        let start: Int
        public let count: Int

        public func makeIterator() -> Iterator {
            Iterator(values: values, nextIndex: start, remaining: count)
        }

        public struct Iterator: IteratorProtocol {
            let values: [Value]
            var nextIndex: Int
            var remaining: Int

            public mutating func next() -> Position? {
                guard remaining > 0 else { return nil }
                remaining -= 1
                let position = Position(index: nextIndex)
                let value = values[nextIndex]
                nextIndex = value.kind == .array ? Int(value.end) : nextIndex + 1
                return position
            }
        }
    }
}
