import MariaDB

/// How one layout's rows are read from MariaDB: the layout's columns the table has (an
/// old eggjs table may lack some), plus `version` when there is one, and each row's values
/// as the scripts write them (`RedisRowLayout.redisText`). Shared by `persister hydrate`
/// (which writes them) and `persister verify` (which compares them with Redis).
struct LayoutQuery: Sendable {
    let layout: RedisRowLayout
    let selected: [String]
    let kinds: [String: TableSchema.Column.Kind]
    let hasVersion: Bool

    init(_ layout: RedisRowLayout, columns: [TableSchema.Column]) {
        self.layout = layout
        let kinds = Dictionary(columns.map { ($0.name, $0.kind) }, uniquingKeysWith: { first, _ in first })
        self.kinds = kinds
        selected = layout.columns.filter { kinds[$0] != nil }
        hasVersion = kinds["version"] != nil
    }

    var table: String { MariaDBConnection.quoteIdentifier(layout.entity.table) }

    /// `col, col, …[, version]`, each qualified by `alias` when given.
    func selectList(alias: String? = nil) -> String {
        (selected + (hasVersion ? ["version"] : [])).map { column in
            (alias.map { "\($0)." } ?? "") + MariaDBConnection.quoteIdentifier(column)
        }.joined(separator: ", ")
    }

    /// The row's non-null values as text, and its version (at least 1, as the scripts
    /// number a row's first state).
    func values(of row: MariaDBRow) -> (values: [String: String], version: Int64) {
        var values: [String: String] = [:]
        for (index, column) in selected.enumerated() {
            if let value = row[index] { values[column] = RedisRowLayout.redisText(value, kind: kinds[column] ?? .text) }
        }
        let version = max(1, hasVersion ? Int64(row[selected.count] ?? "") ?? 1 : 1)
        return (values, version)
    }
}
