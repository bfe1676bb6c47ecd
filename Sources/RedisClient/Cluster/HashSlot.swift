/// One of Redis Cluster's 16384 hash slots: CRC16 (XMODEM) of the key, or of its hash
/// tag — the bytes between the first `{` and the next `}`, when there are any — modulo
/// 16384. Keys that share a tag share a slot, so one script may touch all of them.
public struct HashSlot: Hashable, Sendable, Comparable, CustomStringConvertible {
    public static let count = 16384
    public let rawValue: UInt16

    public init?(rawValue: Int) {
        guard (0..<Self.count).contains(rawValue) else { return nil }
        self.rawValue = UInt16(rawValue)
    }

    public init(key: some Collection<UInt8>) {
        rawValue = Self.crc16(Self.hashedPart(of: key)) & UInt16(Self.count - 1)
    }

    public init(key: String) {
        self.init(key: key.utf8)
    }

    public static func < (lhs: HashSlot, rhs: HashSlot) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(rawValue) }

    /// The tag between the first `{` and the first `}` after it, unless it is empty or
    /// there is none: then the whole key (as the server computes it).
    private static func hashedPart<Key: Collection<UInt8>>(of key: Key) -> Key.SubSequence {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")) else { return key[...] }
        let tagStart = key.index(after: open)
        guard let close = key[tagStart...].firstIndex(of: UInt8(ascii: "}")), close != tagStart else { return key[...] }
        return key[tagStart..<close]
    }

    static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ crc16Table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    /// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection.
    private static let crc16Table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
