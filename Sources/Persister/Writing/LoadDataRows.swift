/// Rows being built as the "file" of a `LOAD DATA LOCAL INFILE` (sent from memory,
/// ``MariaDB/MariaDBConnection/loadLocalData(_:file:contents:)``), in the format the
/// statement declares (``fieldsClause``): fields end with a tab, lines with a newline,
/// `\` escapes.
///
/// In a field, `\`, tab, newline, carriage return and NUL are written as `\\`, `\t`, `\n`,
/// `\r`, `\0`; every other byte goes as it is (a UTF-8 multi-byte character is all bytes
/// ≥ 0x80, so none needs care). A NULL is `\N`; a text spelling `\N` or `NULL` stays a text
/// (its backslash is escaped, and no field is enclosed in quotes).
struct LoadDataRows {
    /// The format the escaping above is for, written out so that no server default matters.
    static let fieldsClause: StaticString =
        #" FIELDS TERMINATED BY '\t' ENCLOSED BY '' ESCAPED BY '\\' LINES TERMINATED BY '\n' STARTING BY '' "#

    private(set) var bytes: [UInt8] = []
    private var fieldsInRow = 0

    init(capacity: Int = 4096) {
        bytes.reserveCapacity(capacity)
    }

    var count: Int { bytes.count }

    /// A text field, escaped.
    mutating func append(text: String) {
        var text = text
        text.withUTF8 { append(escaped: $0) }
    }

    /// A text field that is bytes already (a stream entry's value), escaped.
    mutating func append(text: ArraySlice<UInt8>) {
        text.withUnsafeBufferPointer { append(escaped: $0) }
    }

    private mutating func append(escaped utf8: UnsafeBufferPointer<UInt8>) {
        separate()
        bytes.appendBackslashEscaped(utf8) { byte in
            switch byte {
            case 0: UInt8(ascii: "0")
            case UInt8(ascii: "\t"): UInt8(ascii: "t")
            case UInt8(ascii: "\n"): UInt8(ascii: "n")
            case UInt8(ascii: "\r"): UInt8(ascii: "r")
            case UInt8(ascii: "\\"): UInt8(ascii: "\\")
            default: nil
            }
        }
    }

    /// A field the program wrote (a keyword or constant): nothing in it needs escaping.
    mutating func append(literal: StaticString) {
        separate()
        literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func append(integer: Int64) {
        separate()
        bytes.append(contentsOf: String(integer).utf8)
    }

    mutating func appendNull() {
        separate()
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "N"))
    }

    mutating func endRow() {
        bytes.append(UInt8(ascii: "\n"))
        fieldsInRow = 0
    }

    private mutating func separate() {
        if fieldsInRow > 0 { bytes.append(UInt8(ascii: "\t")) }
        fieldsInRow += 1
    }
}
