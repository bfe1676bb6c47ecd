import CHiredis
import NIOCore

/// A command and its arguments, binary-safe. The arguments are kept in one contiguous
/// byte array with their lengths, so building a command costs two allocations however
/// many arguments it has, and hiredis can format it from stable pointers.
public struct RedisCommand: Sendable, Hashable {
    @usableFromInline var storage: [UInt8]
    @usableFromInline var lengths: [Int]

    /// A command with only its name; add arguments with `append`.
    @inlinable
    public init(_ name: String) {
        storage = []
        storage.reserveCapacity(64)
        lengths = []
        lengths.reserveCapacity(8)
        append(name)
    }

    @inlinable
    public init(_ name: String, _ arguments: [any RedisArgument]) {
        self.init(name)
        for argument in arguments { argument.append(to: &self) }
    }

    @inlinable
    public init(_ name: String, _ arguments: any RedisArgument...) {
        self.init(name, arguments)
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

    public var argumentCount: Int { lengths.count }

    /// The command's name, upper-cased (for logs and metrics; never the arguments,
    /// which may hold secrets).
    public var name: String {
        String(decoding: storage.prefix(lengths.first ?? 0), as: UTF8.self).uppercased()
    }

    /// Appends the RESP encoding, produced by hiredis' `redisFormatCommandArgv`.
    func encode(into buffer: inout ByteBuffer) {
        let count = lengths.count
        // Empty arguments still need a non-null pointer (hiredis reads 0 bytes of it).
        let storage = self.storage.isEmpty ? [0] : self.storage
        storage.withUnsafeBufferPointer { bytes in
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
                    buffer.writeBytes(UnsafeRawBufferPointer(start: target, count: Int(length)))
                    redisFreeCommand(target)
                }
            }
        }
    }
}

/// A value that can be a command argument.
public protocol RedisArgument: Sendable {
    func append(to command: inout RedisCommand)
}

extension String: RedisArgument {
    @inlinable public func append(to command: inout RedisCommand) { command.append(self) }
}

extension Substring: RedisArgument {
    @inlinable public func append(to command: inout RedisCommand) { command.append(bytes: self.utf8) }
}

extension Int: RedisArgument {
    @inlinable public func append(to command: inout RedisCommand) { command.append(self) }
}

extension Int64: RedisArgument {
    @inlinable public func append(to command: inout RedisCommand) { command.append(String(self)) }
}

extension Array: RedisArgument where Element == UInt8 {
    @inlinable public func append(to command: inout RedisCommand) { command.append(bytes: self) }
}
