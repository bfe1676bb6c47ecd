/// The type of a MariaDB text column and how much it holds, in MariaDB's own unit:
/// VARCHAR counts characters (utf8mb4), TEXT and MEDIUMTEXT count bytes.
public enum ColumnType: Sendable, Hashable, CustomStringConvertible {
    case varchar(Int)
    case text
    case mediumText

    public enum Unit: Sendable, Hashable {
        case characters
        case bytes
    }

    /// The type as a migration writes it.
    public var sql: String {
        switch self {
        case .varchar(let length): "VARCHAR(\(length))"
        case .text: "TEXT"
        case .mediumText: "MEDIUMTEXT"
        }
    }

    public var unit: Unit {
        if case .varchar = self { .characters } else { .bytes }
    }

    /// How much the column holds, in `unit`.
    public var capacity: Int {
        switch self {
        case .varchar(let length): length
        case .text: 65_535
        case .mediumText: 16_777_215
        }
    }

    /// The most bytes a value may take (a utf8mb4 character is at most 4).
    public var byteCapacity: Int {
        unit == .characters ? capacity * 4 : capacity
    }

    /// `information_schema.COLUMNS.COLUMN_TYPE` read back (`varchar(50)`, `text`, …); nil
    /// for any other type.
    public init?(columnType: String) {
        let text = columnType.lowercased()
        switch text {
        case "text": self = .text
        case "mediumtext": self = .mediumText
        default:
            guard text.hasPrefix("varchar("), text.hasSuffix(")"), let length = Int(text.dropFirst(8).dropLast()) else { return nil }
            self = .varchar(length)
        }
    }

    /// Whether every value `other` holds fits here too (the schema may be wider than the
    /// limits table, never narrower).
    public func holds(_ other: ColumnType) -> Bool {
        switch (self, other) {
        case (.varchar(let mine), .varchar(let theirs)): mine >= theirs
        case (.varchar, _): false
        default: byteCapacity >= other.byteCapacity
        }
    }

    public var description: String { sql }
}

/// One value the bridge accepts and MariaDB stores: the column it ends in and the largest
/// value accepted, never more than the column holds. docs/api.md lists them for clients.
///
/// Characters are counted as UTF-16 code units (JavaScript's `.length`, what clients
/// count): a code point is one or two of them, so a value of n units is at most n
/// MariaDB characters and at most 3n bytes.
public struct ColumnLimit: Sendable, Hashable, CustomStringConvertible {
    public let table: String
    public let column: String
    /// The column's type: the migrations make the column at least this wide.
    public let type: ColumnType
    /// The largest accepted value, in `unit`.
    public let maximum: Int
    public let unit: ColumnType.Unit

    /// A value of the column's own unit; `maximum` defaults to the whole column.
    public init(_ table: String, _ column: String, _ type: ColumnType, maximum: Int? = nil, unit: ColumnType.Unit? = nil) {
        self.table = table
        self.column = column
        self.type = type
        self.maximum = maximum ?? type.capacity
        self.unit = unit ?? type.unit
    }

    /// Whether `text` is within the limit.
    public func admits(_ text: String) -> Bool {
        unit == .characters ? text.utf16.count <= maximum : text.utf8.count <= maximum
    }

    /// Whether a value of `byteCount` UTF-8 bytes is within a limit in bytes (for a limit
    /// in characters this is stricter than needed: `admits(_:)` counts them).
    public func admits(byteCount: Int) -> Bool {
        byteCount <= maximum
    }

    /// Whether the largest accepted value fits the column whatever its characters.
    public var fitsColumn: Bool {
        switch (unit, type.unit) {
        case (.characters, .characters): maximum <= type.capacity
        case (.characters, .bytes): maximum * 3 <= type.capacity
        case (.bytes, .bytes): maximum <= type.capacity
        case (.bytes, .characters): maximum <= type.capacity
        }
    }

    /// The refusal naming the request parameter: `参数{name}长度不能超过{n}个字符` or
    /// `参数{name}不能超过{n}字节`.
    public func refusal(_ parameter: String) -> String {
        unit == .characters ? "参数\(parameter)长度不能超过\(maximum)个字符" : "参数\(parameter)不能超过\(maximum)字节"
    }

    public var description: String { "\(table).\(column) \(type) ≤ \(maximum) \(unit == .characters ? "characters" : "bytes")" }
}
