import MariaDB

/// The columns of the tables the persister writes, read from `information_schema` once
/// per connection: a row snapshot's keys are matched against them (unknown keys such as
/// `_v` are ignored) and each value is converted for its column's type.
struct TableSchema: Sendable {
    struct Column: Sendable, Hashable {
        enum Kind: Sendable, Hashable {
            /// DATETIME/TIMESTAMP/DATE with this many fractional digits.
            case dateTime(precision: Int)
            case integer
            case text
        }

        let name: String
        let kind: Kind
    }

    /// Table → its writable columns (generated ones left out) in table order.
    let tables: [String: [Column]]

    func columns(of table: String) -> [Column]? { tables[table] }

    static func load(from connection: MariaDBConnection) throws -> TableSchema {
        let rows = try connection.query("""
            SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, IFNULL(DATETIME_PRECISION, 0), EXTRA
            FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION
            """)
        var tables: [String: [Column]] = [:]
        for row in rows {
            guard let table = row[0], let name = row[1], let type = row[2]?.lowercased() else { continue }
            if (row[4] ?? "").uppercased().contains("GENERATED") { continue }
            let kind: Column.Kind
            switch type {
            case "datetime", "timestamp", "date": kind = .dateTime(precision: Int(row[3] ?? "0") ?? 0)
            case "tinyint", "smallint", "mediumint", "int", "bigint": kind = .integer
            default: kind = .text
            }
            tables[table, default: []].append(Column(name: name, kind: kind))
        }
        return TableSchema(tables: tables)
    }
}
