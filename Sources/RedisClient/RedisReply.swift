/// One reply from Redis (RESP2, as hiredis 0.14 parses it). Bulk strings are bytes, so
/// values with NUL bytes or invalid UTF-8 round-trip unchanged.
public enum RedisReply: Sendable, Hashable {
    case null
    case integer(Int64)
    case bulk([UInt8])
    case status(String)
    case error(String)
    case array([RedisReply])
}

extension RedisReply {
    /// The text of a bulk or status reply (bulk decoded as UTF-8, invalid bytes repaired).
    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    public var bytes: [UInt8]? {
        if case .bulk(let bytes) = self { return bytes }
        return nil
    }

    public var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .bulk(let bytes): Int64(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }

    public var array: [RedisReply]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// A flat field/value array (`HGETALL`, `XRANGE` entry fields) as a dictionary of
    /// texts; empty for anything else. Later duplicates of a field win.
    public var fieldValues: [String: String] {
        guard case .array(let items) = self else { return [:] }
        var result: [String: String] = [:]
        result.reserveCapacity(items.count / 2)
        var index = 0
        while index + 1 < items.count {
            if let key = items[index].string, let value = items[index + 1].string { result[key] = value }
            index += 2
        }
        return result
    }

    /// The server's error message, if this is an error reply.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }

    /// The short code a script's `redis.error_reply(code)` answered: the message without
    /// the `ERR ` Redis puts before a message that names no error kind.
    public var scriptError: String? {
        guard let message = errorMessage else { return nil }
        return message.hasPrefix("ERR ") ? String(message.dropFirst(4)) : message
    }

    /// Returns the reply, or throws `RedisError.server` for an error reply.
    @discardableResult
    public func throwingOnError() throws(RedisError) -> RedisReply {
        if case .error(let message) = self { throw .server(message) }
        return self
    }
}

extension RedisReply: CustomStringConvertible {
    public var description: String {
        switch self {
        case .null: "(nil)"
        case .integer(let value): "(integer) \(value)"
        case .bulk(let bytes): "\"\(String(decoding: bytes, as: UTF8.self))\""
        case .status(let text): text
        case .error(let message): "(error) \(message)"
        case .array(let elements): "[" + elements.map(\.description).joined(separator: ", ") + "]"
        }
    }
}
