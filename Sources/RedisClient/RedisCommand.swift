import CHiredis
import NIOCore

/// A command, encoded once in RESP by hiredis' `redisFormatCommandArgv` when it is made.
///
/// Encoding at construction keeps the send path to a copy of bytes, and a command sent
/// many times (a pipeline of the same command, a retried script call) is formatted once,
/// as `redis-benchmark` does with its own commands.
public struct RedisCommand: Sendable, Hashable {
    /// The RESP encoding (`*N\r\n$len\r\narg\r\n…`).
    public let encoded: [UInt8]

    public init(arguments: RedisCommandArguments) {
        encoded = arguments.formatted()
    }

    public init(_ name: String, _ arguments: [any RedisArgument]) {
        var builder = RedisCommandArguments(name)
        for argument in arguments { argument.append(to: &builder) }
        self.init(arguments: builder)
    }

    public init(_ name: String, _ arguments: any RedisArgument...) {
        self.init(name, arguments)
    }

    /// The command's name, upper-cased (for logs and metrics; never the arguments,
    /// which may hold secrets).
    public var name: String {
        // `*N\r\n$len\r\nNAME\r\n`: the name follows the second CRLF.
        var crlfs = 0
        var start = 0
        for index in encoded.indices where encoded[index] == 0x0A {
            crlfs += 1
            if crlfs == 2 { start = index + 1 }
            if crlfs == 3 { return String(decoding: encoded[start..<(index - 1)], as: UTF8.self).uppercased() }
        }
        return ""
    }

    func encode(into buffer: inout ByteBuffer) {
        buffer.writeBytes(encoded)
    }
}

/// The arguments of a command being built, binary-safe, kept in one contiguous byte
/// array with their lengths: two allocations however many arguments there are, and
/// stable pointers for hiredis.
public struct RedisCommandArguments: Sendable {
    @usableFromInline var storage: [UInt8] = []
    @usableFromInline var lengths: [Int] = []

    @inlinable
    public init(_ name: String) {
        storage.reserveCapacity(64)
        lengths.reserveCapacity(8)
        append(name)
    }

    @inlinable
    public mutating func append(_ text: String) {
        let before = storage.count
        storage.append(contentsOf: text.utf8)
        lengths.append(storage.count - before)
    }

    @inlinable
    public mutating func append<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        storage.append(contentsOf: bytes)
        lengths.append(bytes.count)
    }

    @inlinable
    public mutating func append(_ value: Int) {
        append(String(value))
    }

    public var count: Int { lengths.count }

    /// The RESP encoding, produced by hiredis.
    func formatted() -> [UInt8] {
        let count = lengths.count
        // Empty arguments still need a non-null pointer (hiredis reads 0 bytes of it).
        let storage = self.storage.isEmpty ? [0] : self.storage
        return storage.withUnsafeBufferPointer { bytes in
            withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: count) { argv in
                lengths.withUnsafeBufferPointer { argvlen in
                    let base = UnsafeRawPointer(bytes.baseAddress!)
                    var offset = 0
                    for index in 0..<count {
                        argv[index] = (base + offset).assumingMemoryBound(to: CChar.self)
                        offset += argvlen[index]
                    }
                    var target: UnsafeMutablePointer<CChar>?
                    let length = redisFormatCommandArgv(&target, Int32(count), argv.baseAddress, argvlen.baseAddress)
                    guard length > 0, let target else {
                        // Only an allocation failure inside hiredis gets here.
                        fatalError("hiredis could not format a command (out of memory)")
                    }
                    defer { redisFreeCommand(target) }
                    return Array(UnsafeRawBufferPointer(start: target, count: Int(length)))
                }
            }
        }
    }
}

/// A value that can be a command argument.
public protocol RedisArgument: Sendable {
    func append(to arguments: inout RedisCommandArguments)
}

extension String: RedisArgument {
    @inlinable public func append(to arguments: inout RedisCommandArguments) { arguments.append(self) }
}

extension Substring: RedisArgument {
    @inlinable public func append(to arguments: inout RedisCommandArguments) { arguments.append(bytes: self.utf8) }
}

extension Int: RedisArgument {
    @inlinable public func append(to arguments: inout RedisCommandArguments) { arguments.append(self) }
}

extension Int64: RedisArgument {
    @inlinable public func append(to arguments: inout RedisCommandArguments) { arguments.append(String(self)) }
}

extension Array: RedisArgument where Element == UInt8 {
    @inlinable public func append(to arguments: inout RedisCommandArguments) { arguments.append(bytes: self) }
}
