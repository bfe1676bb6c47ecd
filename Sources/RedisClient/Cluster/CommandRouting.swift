/// Where a command goes in a cluster, read from its arguments: the node of its keys'
/// slot, any node (no keys), or every primary (what each primary must hold, such as a
/// script in its cache).
enum CommandRouting: Hashable, Sendable {
    case slot(HashSlot)
    case anyNode
    case allPrimaries

    /// The routing of `command`; `.crossSlot` when its keys are in several slots (the
    /// server would refuse it with CROSSSLOT; this refuses it before it is sent).
    init(_ command: RedisCommand) throws(RedisError) {
        let arguments = command.argumentRanges()
        let bytes = command.encoded
        guard let nameRange = arguments.first else {
            self = .anyNode
            return
        }
        let name = String(decoding: bytes[nameRange], as: UTF8.self).uppercased()
        let positions: KeyPositions
        if name == "SCRIPT" || name == "FUNCTION" {
            let sub = arguments.count > 1 ? String(decoding: bytes[arguments[1]], as: UTF8.self).uppercased() : ""
            // What changes the caches goes everywhere; what reads them goes anywhere.
            self = ["LOAD", "FLUSH", "DELETE", "RESTORE"].contains(sub) ? .allPrimaries : .anyNode
            return
        } else if let known = Self.table[name] {
            positions = known
        } else {
            // Most commands name their key first; a command missing from the table is
            // routed by it, and the server corrects a wrong guess with MOVED or CROSSSLOT.
            positions = arguments.count > 1 ? .range(first: 1, last: 1, step: 1) : .none
        }
        var slot: HashSlot?
        for index in positions.keyIndices(in: arguments, bytes: bytes) {
            let keySlot = HashSlot(key: bytes[arguments[index]])
            if let slot, slot != keySlot { throw .crossSlot(command: name) }
            slot = keySlot
        }
        switch positions {
        case .allPrimaries: self = .allPrimaries
        default: self = slot.map(Self.slot) ?? .anyNode
        }
    }

    /// Which arguments are keys (0 is the command's name), as `COMMAND` describes them.
    enum KeyPositions {
        case none
        case allPrimaries
        /// From `first` to `last` (negative: counted from the end, -1 the last) every `step`.
        case range(first: Int, last: Int, step: Int)
        /// A key count at `at`, the keys after it (EVAL, FCALL); `extraKey` before it.
        case counted(at: Int, extraKey: Int?)
        /// After the `STREAMS` keyword, the first half of what follows (XREAD).
        case streams

        func keyIndices(in arguments: [Range<Int>], bytes: [UInt8]) -> [Int] {
            let count = arguments.count
            switch self {
            case .none, .allPrimaries:
                return []
            case .range(let first, let last, let step):
                let end = last < 0 ? count + last : min(last, count - 1)
                guard first <= end else { return [] }
                return Array(stride(from: first, through: end, by: step))
            case .counted(let at, let extraKey):
                guard at < count, let keys = Int(String(decoding: bytes[arguments[at]], as: UTF8.self)), keys >= 0 else {
                    return extraKey.map { [$0] } ?? []
                }
                let indices = Array((at + 1)..<min(count, at + 1 + keys))
                return (extraKey.map { [$0] } ?? []) + indices
            case .streams:
                guard let keyword = arguments.indices.first(where: {
                    String(decoding: bytes[arguments[$0]], as: UTF8.self).uppercased() == "STREAMS"
                }) else { return [] }
                let rest = count - keyword - 1
                return Array((keyword + 1)..<(keyword + 1 + rest / 2))
            }
        }
    }

    private static let one = KeyPositions.range(first: 1, last: 1, step: 1)
    private static let all = KeyPositions.range(first: 1, last: -1, step: 1)
    private static let pairs = KeyPositions.range(first: 1, last: -1, step: 2)
    private static let two = KeyPositions.range(first: 1, last: 2, step: 1)
    private static let second = KeyPositions.range(first: 2, last: 2, step: 1)

    /// The commands whose keys are not simply the first argument (and those with none).
    static let table: [String: KeyPositions] = {
        var table: [String: KeyPositions] = [:]
        for name in [
            "PING", "ECHO", "INFO", "TIME", "CLIENT", "CONFIG", "CLUSTER", "COMMAND", "DBSIZE", "LASTSAVE",
            "SLOWLOG", "LATENCY", "ACL", "AUTH", "HELLO", "READONLY", "READWRITE", "ASKING", "MULTI", "EXEC",
            "DISCARD", "WAIT", "PUBLISH", "RANDOMKEY", "SCAN", "KEYS", "ROLE", "SELECT", "QUIT", "RESET",
            "MONITOR", "SAVE", "BGSAVE", "BGREWRITEAOF", "DEBUG", "SHUTDOWN", "SWAPDB", "UNWATCH", "LOLWUT",
        ] { table[name] = KeyPositions.none }
        for name in ["FLUSHALL", "FLUSHDB"] { table[name] = .allPrimaries }
        for name in ["DEL", "UNLINK", "EXISTS", "TOUCH", "MGET", "WATCH", "SINTER", "SUNION", "SDIFF", "PFCOUNT", "PFMERGE",
                     "SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"] { table[name] = all }
        for name in ["MSET", "MSETNX"] { table[name] = pairs }
        for name in ["RENAME", "RENAMENX", "RPOPLPUSH", "LMOVE", "SMOVE", "COPY", "BLMOVE", "BRPOPLPUSH", "GEOSEARCHSTORE",
                     "ZRANGESTORE", "LCS"] { table[name] = two }
        for name in ["BLPOP", "BRPOP", "BZPOPMIN", "BZPOPMAX"] { table[name] = .range(first: 1, last: -2, step: 1) }
        for name in ["EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO", "BLMPOP", "BZMPOP"] {
            table[name] = .counted(at: 2, extraKey: nil)
        }
        for name in ["ZUNION", "ZINTER", "ZDIFF", "SINTERCARD", "ZINTERCARD", "LMPOP", "ZMPOP"] { table[name] = .counted(at: 1, extraKey: nil) }
        for name in ["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"] { table[name] = .counted(at: 2, extraKey: 1) }
        for name in ["XREAD", "XREADGROUP"] { table[name] = .streams }
        for name in ["XINFO", "XGROUP", "OBJECT", "MEMORY"] { table[name] = second }
        return table
    }()
}

extension RedisCommand {
    /// Where each argument's bytes are in ``encoded`` (index 0: the command's name).
    func argumentRanges() -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var index = 0
        func number(after marker: UInt8) -> Int? {
            guard index < encoded.count, encoded[index] == marker else { return nil }
            index += 1
            var value = 0
            while index < encoded.count, encoded[index] != UInt8(ascii: "\r") {
                value = value * 10 + Int(encoded[index] &- UInt8(ascii: "0"))
                index += 1
            }
            index += 2  // CRLF
            return value
        }
        guard let count = number(after: UInt8(ascii: "*")) else { return [] }
        ranges.reserveCapacity(count)
        for _ in 0..<count {
            guard let length = number(after: UInt8(ascii: "$")), index + length <= encoded.count else { break }
            ranges.append(index..<(index + length))
            index += length + 2
        }
        return ranges
    }
}
