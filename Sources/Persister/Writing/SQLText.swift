/// A statement being built as UTF-8 bytes: literals escaped here rather than through
/// `mysql_real_escape_string` (one C call and two copies per value), which matters when
/// a batch is thousands of rows.
///
/// The escaping is MariaDB's default (backslash) quoting, valid for utf8mb4: every byte of
/// a multi-byte UTF-8 character is ≥ 0x80, so only the ASCII bytes below need care. The
/// session makes sure `NO_BACKSLASH_ESCAPES` is off (``BatchWriter/prepare(_:)``).
struct SQLText {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    var count: Int { bytes.count }

    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Text written as it is: identifiers and keywords built by the program.
    mutating func appendRaw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    mutating func append(integer: Int64) {
        bytes.append(contentsOf: String(integer).utf8)
    }

    /// `` `name` `` (backquotes inside doubled).
    mutating func append(identifier name: String) {
        bytes.append(UInt8(ascii: "`"))
        for byte in name.utf8 {
            if byte == UInt8(ascii: "`") { bytes.append(byte) }
            bytes.append(byte)
        }
        bytes.append(UInt8(ascii: "`"))
    }

    /// `'text'`, escaped.
    mutating func append(quoted text: String) {
        var text = text
        text.withUTF8 { append(quotedUTF8: $0) }
    }

    /// `'text'`, escaped, for text that is bytes already (a stream entry's value).
    mutating func append(quoted text: ArraySlice<UInt8>) {
        text.withUnsafeBufferPointer { append(quotedUTF8: $0) }
    }

    /// (`"` needs none inside `'…'`: JSON values stay as they are.)
    private mutating func append(quotedUTF8 utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "'"))
        bytes.appendBackslashEscaped(utf8) { byte in
            switch byte {
            case 0: UInt8(ascii: "0")
            case UInt8(ascii: "\n"): UInt8(ascii: "n")
            case UInt8(ascii: "\r"): UInt8(ascii: "r")
            case 0x1A: UInt8(ascii: "Z")
            case UInt8(ascii: "\\"), UInt8(ascii: "'"): byte
            default: nil
            }
        }
        bytes.append(UInt8(ascii: "'"))
    }

    mutating func removeLast() {
        bytes.removeLast()
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }
}
