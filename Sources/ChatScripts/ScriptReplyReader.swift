import RedisClient

/// Reads a script's flat reply in place: its error code, or the elements of its array
/// one after the other, without building a tree of replies.
public struct ScriptReplyReader {
    public let reply: RedisFlatReply
    private let script: String
    private var elements: RedisFlatReply.Elements.Iterator
    /// How many elements the array has (0 for anything else).
    public let count: Int

    public init(_ reply: RedisFlatReply, script: String) {
        self.reply = reply
        self.script = script
        let elements = reply.elements(of: reply.root)
        self.elements = elements.makeIterator()
        count = elements.count
    }

    /// The code of a script's `redis.error_reply(code)`: the message without the `ERR `
    /// Redis puts before a message that names no error kind. Nil when not an error.
    public var errorCode: String? {
        guard let message = reply.errorMessage(at: reply.root) else { return nil }
        return message.hasPrefix("ERR ") ? String(message.dropFirst(4)) : message
    }

    /// A script that answers the changed row's new version, or one of `Refusal`'s error
    /// codes (anything else is thrown).
    public static func version<Refusal: RawRepresentable & Error>(
        _ reply: RedisFlatReply, script: String, refusing _: Refusal.Type
    ) throws(RedisError) -> Result<Int, Refusal> where Refusal.RawValue == String {
        let reader = ScriptReplyReader(reply, script: script)
        if let code = reader.errorCode {
            guard let refusal = Refusal(rawValue: code) else { throw reader.unexpected() }
            return .failure(refusal)
        }
        guard let version = reply.integer(at: reply.root) else { throw reader.unexpected() }
        return .success(Int(version))
    }

    /// The error to throw for a reply of no known form (or an unknown error code).
    public func unexpected() -> RedisError {
        if let message = reply.errorMessage(at: reply.root) { return .server(message) }
        return .server("\(script): unexpected reply \(reply.reply)")
    }

    public mutating func next() throws(RedisError) -> RedisFlatReply.Position {
        guard let position = elements.next() else { throw unexpected() }
        return position
    }

    /// The next element, or nil after the last.
    public mutating func nextIfAny() -> RedisFlatReply.Position? {
        elements.next()
    }

    public mutating func string() throws(RedisError) -> String {
        guard let text = reply.string(at: try next()) else { throw unexpected() }
        return text
    }

    public mutating func bytes() throws(RedisError) -> [UInt8] {
        guard let range = reply.byteRange(at: try next()) else { throw unexpected() }
        return Array(reply.bytes[range])
    }

    public mutating func integer() throws(RedisError) -> Int64 {
        guard let value = reply.integer(at: try next()) else { throw unexpected() }
        return value
    }

    public mutating func int() throws(RedisError) -> Int {
        Int(try integer())
    }

    /// The elements left, as integers (ids sent as text).
    public mutating func remainingIntegers() -> [Int] {
        var values: [Int] = []
        values.reserveCapacity(max(0, count))
        while let position = elements.next() {
            if let value = reply.integer(at: position) { values.append(Int(value)) }
        }
        return values
    }
}
