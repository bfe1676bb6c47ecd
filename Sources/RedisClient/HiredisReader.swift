import CHiredis

/// hiredis' reply parser, writing into a ``RedisReplyTape`` through its custom object
/// functions instead of allocating a `redisReply` per element. Bytes are fed as they
/// arrive; ``parse(into:)`` says where on the tape the replies it completed start. Not
/// thread-safe: one reader belongs to one channel handler.
final class HiredisReader {
    private let reader: UnsafeMutablePointer<redisReader>
    /// hiredis keeps a pointer to them for the reader's life.
    private let functions = HiredisReader.makeFunctions()
    /// The replies read and the one being read.
    private(set) var tape = RedisReplyTape()
    /// Where the reply being parsed starts (the end of the last complete one).
    private var partialStart = 0

    init() {
        guard let reader = redisReaderCreateWithFunctions(functions) else {
            fatalError("hiredis: out of memory creating a reader")
        }
        self.reader = reader
        reader.pointee.privdata = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        redisReaderFree(reader)
        functions.deallocate()
    }

    func feed(_ bytes: UnsafeRawBufferPointer) throws(RedisError) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        if redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count) != REDIS_OK {
            throw .protocolError(errorText)
        }
    }

    /// Parses what has been fed; appends the root positions of the replies it completed,
    /// in order.
    func parse(into roots: inout [Int]) throws(RedisError) {
        while true {
            var done: UnsafeMutableRawPointer?
            guard redisReaderGetReply(reader, &done) == REDIS_OK else {
                tape.removeAll()
                partialStart = 0
                throw .protocolError(errorText)
            }
            guard done != nil else { return }
            roots.append(partialStart)
            partialStart = Int(tape.values[partialStart].end)
        }
    }

    /// Forgets the complete replies (handed on already); keeps the one being parsed.
    func removeCompletedReplies() {
        tape.removeValues(before: partialStart)
        partialStart = 0
    }

    private var errorText: String {
        withUnsafeBytes(of: reader.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    // MARK: hiredis' object functions

    // hiredis only needs a non-null "object" per value (null means out of memory); the
    // values go to the tape in the order hiredis creates them, so the reader itself is
    // handed back as every object and `freeObject` has nothing to free.
    private static func makeFunctions() -> UnsafeMutablePointer<redisReplyObjectFunctions> {
        let functions = UnsafeMutablePointer<redisReplyObjectFunctions>.allocate(capacity: 1)
        functions.initialize(to: redisReplyObjectFunctions(
            createString: { task, text, length in
                guard let task, let privdata = task.pointee.privdata else { return nil }
                let kind: RedisFlatReply.Kind = switch task.pointee.type {
                case REDIS_REPLY_STATUS: .status
                case REDIS_REPLY_ERROR: .error
                default: .bulk
                }
                HiredisReader.owner(privdata).tape.appendString(kind, UnsafeRawBufferPointer(start: text, count: length))
                return privdata
            },
            createArray: { task, count in
                guard let task, let privdata = task.pointee.privdata else { return nil }
                HiredisReader.owner(privdata).tape.appendArray(count: Int(max(0, count)))
                return privdata
            },
            createInteger: { task, value in
                guard let task, let privdata = task.pointee.privdata else { return nil }
                HiredisReader.owner(privdata).tape.appendInteger(Int64(value))
                return privdata
            },
            createNil: { task in
                guard let task, let privdata = task.pointee.privdata else { return nil }
                HiredisReader.owner(privdata).tape.appendNull()
                return privdata
            },
            freeObject: { _ in }
        ))
        return functions
    }

    private static func owner(_ privdata: UnsafeMutableRawPointer) -> HiredisReader {
        Unmanaged<HiredisReader>.fromOpaque(privdata).takeUnretainedValue()
    }
}
