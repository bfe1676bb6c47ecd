import MariaDB
import Model

/// The last step of every `migrate`: each column of `StoredLimits` narrower than the table
/// says is widened, keeping its nullability, default, comment and character set. So the
/// limits table drives the schema: the bridge accepts what the table says, and the next
/// `migrate` makes MariaDB hold it (docs/architecture.md *MariaDB*).
///
/// Not a numbered migration: a numbered one runs once, and a later edit of the table would
/// not reach a database that has run it. Released migrations stay as they were applied.
/// Never narrows a column (an operator's wider column, or old rows, stay), so it is safe to
/// run every time, and a run stopped half-way is finished by the next.
struct ColumnWidening: Sendable {
    var columnTypes: [String: [String: ColumnType]] = StoredLimits.columnTypes

    /// Widens what is narrower; answers `table.column TYPE` for each column it widened.
    func apply(on connection: MariaDBConnection) throws -> [String] {
        var widened: [String] = []
        for (table, columns) in columnTypes.sorted(by: { $0.key < $1.key }) {
            for (column, wanted) in columns.sorted(by: { $0.key < $1.key }) {
                guard let statement = try Self.statement(table: table, column: column, wanted: wanted, on: connection) else { continue }
                try connection.execute(statement)
                widened.append("\(table).\(column) \(wanted.sql)")
            }
        }
        return widened
    }

    /// The `ALTER TABLE … MODIFY COLUMN` that widens the column, nil when it already holds
    /// `wanted` or does not exist.
    static func statement(table: String, column: String, wanted: ColumnType, on connection: MariaDBConnection) throws -> String? {
        let rows = try connection.query("""
            SELECT COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLUMN_COMMENT, CHARACTER_SET_NAME, COLLATION_NAME
            FROM information_schema.COLUMNS
            WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = \(try connection.quote(table)) AND COLUMN_NAME = \(try connection.quote(column))
            """)
        guard let row = rows.first, let current = row[0] else { return nil }
        if let type = ColumnType(columnType: current), type.holds(wanted) { return nil }
        var definition = wanted.sql
        if let charset = row[4], let collation = row[5] { definition += " CHARACTER SET \(charset) COLLATE \(collation)" }
        definition += row[1] == "NO" ? " NOT NULL" : " NULL"
        // MariaDB shows a default as the expression (`''`, `NULL`, `'user'`); no default: SQL NULL.
        if let value = row[2] { definition += " DEFAULT \(value)" }
        definition += " COMMENT \(try connection.quote(row[3] ?? ""))"
        return "ALTER TABLE \(MariaDBConnection.quoteIdentifier(table)) MODIFY COLUMN \(MariaDBConnection.quoteIdentifier(column)) \(definition)"
    }
}
