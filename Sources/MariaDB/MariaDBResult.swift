/// The rows of a statement that returned a result set, values as text (the text
/// protocol's representation; `NULL` is `nil`).
public struct MariaDBResult: Sendable, RandomAccessCollection {
    /// The column names (or aliases), in order.
    public let columns: [String]
    private let values: [[String?]]

    init(columns: [String], values: [[String?]]) {
        self.columns = columns
        self.values = values
    }

    public var startIndex: Int { values.startIndex }
    public var endIndex: Int { values.endIndex }

    public subscript(position: Int) -> MariaDBRow {
        MariaDBRow(columns: columns, values: values[position])
    }
}

/// One row of a ``MariaDBResult``.
public struct MariaDBRow: Sendable, CustomStringConvertible {
    public let columns: [String]
    /// The values in column order; `nil` is SQL `NULL`.
    public let values: [String?]

    /// The value of the column at `index`; `nil` is SQL `NULL`.
    public subscript(index: Int) -> String? {
        values[index]
    }

    /// The value of the first column called `name` (case-insensitively, as MariaDB
    /// compares column names); `nil` when it is `NULL` or there is no such column.
    public subscript(name: String) -> String? {
        guard let index = columnIndex(name) else { return nil }
        return values[index]
    }

    /// Whether the row has a column called `name` (to tell a missing column from `NULL`).
    public func hasColumn(_ name: String) -> Bool {
        columnIndex(name) != nil
    }

    public var description: String {
        let fields = zip(columns, values).map { "\($0)=\($1.map { "'\($0)'" } ?? "NULL")" }
        return "[" + fields.joined(separator: ", ") + "]"
    }

    private func columnIndex(_ name: String) -> Int? {
        columns.firstIndex { $0 == name } ?? columns.firstIndex { $0.lowercased() == name.lowercased() }
    }
}
