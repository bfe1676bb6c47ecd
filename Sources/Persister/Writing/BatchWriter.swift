import MariaDB
import Model

/// A decoded stream entry, ready to be written.
enum PersistableEntry: Sendable {
    case entity(EntityChange)
    case message(MessageRecord)

    init(_ entry: StreamEntry) throws(EntryError) {
        if entry.stream == StreamName.messages {
            self = .message(try MessageRecord(fields: entry.fields))
        } else {
            self = .entity(try EntityChange(fields: entry.fields))
        }
    }
}

/// Writes decoded entries into MariaDB, idempotently. Blocking; the caller owns the
/// transaction (one per batch).
///
/// - Entity upserts: `INSERT … ON DUPLICATE KEY UPDATE` where every column changes only
///   when the incoming version is newer than the row's, and only on the row of the same
///   id (a clash on another unique key, say a username a newer row holds now, leaves that
///   row alone). An upsert not newer than the entity's tombstone is skipped.
/// - Entity deletes: the row goes only if its version is older; the tombstone keeps the
///   highest deleted version.
/// - Messages: multi-row `INSERT … ON DUPLICATE KEY UPDATE`, once by id. A revoke that
///   arrives before its message (a replay, a claim) inserts a placeholder (`version` 0,
///   `isremove` 1, the revoke's fields); the message later fills in its own fields and
///   keeps `isremove` 1. A message row has `version` 1.
struct BatchWriter: Sendable {
    let schema: TableSchema
    /// Longest multi-row statement (MariaDB's `max_allowed_packet` is 16 MiB by default).
    var maximumStatementBytes = 4 << 20

    /// Per-session settings the writer relies on: backslash escapes (see ``SQLText``).
    static func prepare(_ connection: MariaDBConnection) throws {
        let mode = try connection.query("SELECT @@SESSION.sql_mode").first?[0] ?? ""
        if mode.uppercased().contains("NO_BACKSLASH_ESCAPES") {
            let kept = mode.split(separator: ",").filter { $0.uppercased() != "NO_BACKSLASH_ESCAPES" }.joined(separator: ",")
            try connection.execute("SET SESSION sql_mode = \(try connection.quote(kept))")
        }
    }

    /// Writes `entries` in order; returns the number of entries applied (not skipped).
    @discardableResult
    func write(_ entries: [PersistableEntry], on connection: MariaDBConnection) throws -> Int {
        var changes: [EntityChange] = []
        var messages: [MessageRecord] = []
        var revokes: [MessageRecord] = []
        for entry in entries {
            switch entry {
            case .entity(let change): changes.append(change)
            case .message(let record) where record.kind == .message: messages.append(record)
            case .message(let record): revokes.append(record)
            }
        }
        var applied = 0
        if !changes.isEmpty { applied += try writeEntities(changes, on: connection) }
        // Messages before revokes: a revoke of a message of the same batch then only sets
        // its flag.
        try insertMessages(messages, placeholders: false, on: connection)
        try insertMessages(revokes, placeholders: true, on: connection)
        return applied + messages.count + revokes.count
    }

    // MARK: Entities

    private struct RowKey: Hashable {
        let entity: Entity
        let id: Int64
    }

    private func writeEntities(_ changes: [EntityChange], on connection: MariaDBConnection) throws -> Int {
        var tombstones = try loadTombstones(for: changes, on: connection)
        var applied = 0
        for change in changes {
            let key = RowKey(entity: change.entity, id: change.id)
            switch change.operation {
            case .upsert:
                if let deleted = tombstones[key], deleted >= change.version { continue }
                try connection.execute(try upsertStatement(change).string)
            case .delete:
                var sql = SQLText()
                sql.append("DELETE FROM ")
                sql.append(identifier: change.entity.table)
                sql.append(" WHERE `id` = ")
                sql.append(integer: change.id)
                sql.append(" AND `version` < ")
                sql.append(integer: change.version)
                try connection.execute(sql.string)
                sql = SQLText()
                sql.append("INSERT INTO `entity_tombstone` (`entity`, `id`, `version`) VALUES (")
                sql.append(quoted: change.entity.rawValue)
                sql.append(", ")
                sql.append(integer: change.id)
                sql.append(", ")
                sql.append(integer: change.version)
                sql.append(") ON DUPLICATE KEY UPDATE `version` = GREATEST(`version`, VALUES(`version`))")
                try connection.execute(sql.string)
                tombstones[key] = max(tombstones[key] ?? 0, change.version)
            }
            applied += 1
        }
        return applied
    }

    private func loadTombstones(for changes: [EntityChange], on connection: MariaDBConnection) throws -> [RowKey: Int64] {
        let keys = Set(changes.lazy.filter { $0.operation == .upsert }.map { RowKey(entity: $0.entity, id: $0.id) })
        guard !keys.isEmpty else { return [:] }
        var sql = SQLText()
        sql.append("SELECT `entity`, `id`, `version` FROM `entity_tombstone` WHERE (`entity`, `id`) IN (")
        for key in keys {
            sql.append("(")
            sql.append(quoted: key.entity.rawValue)
            sql.append(",")
            sql.append(integer: key.id)
            sql.append("),")
        }
        sql.removeLast()
        sql.append(")")
        var result: [RowKey: Int64] = [:]
        for row in try connection.query(sql.string) {
            guard let entity = row[0].flatMap(Entity.init(rawValue:)), let id = row[1].flatMap({ Int64($0) }),
                  let version = row[2].flatMap({ Int64($0) }) else { continue }
            result[RowKey(entity: entity, id: id)] = version
        }
        return result
    }

    func upsertStatement(_ change: EntityChange) throws(EntryError) -> SQLText {
        guard let columns = schema.columns(of: change.entity.table) else {
            throw EntryError("table \(change.entity.table) does not exist: run `persister migrate`")
        }
        var written: [(TableSchema.Column, JSONValue)] = []
        for column in columns where column.name != "id" && column.name != "version" {
            if let value = change.row[column.name] { written.append((column, value)) }
        }
        var sql = SQLText(capacity: 512)
        sql.append("INSERT INTO ")
        sql.append(identifier: change.entity.table)
        sql.append(" (`id`")
        for (column, _) in written {
            sql.append(", ")
            sql.append(identifier: column.name)
        }
        sql.append(", `version`) VALUES (")
        sql.append(integer: change.id)
        for (column, value) in written {
            sql.append(", ")
            try SQLValue.append(value, for: column.kind, to: &sql)
        }
        sql.append(", ")
        sql.append(integer: change.version)
        sql.append(") ON DUPLICATE KEY UPDATE ")
        // `version` last: MariaDB assigns left to right, and every guard reads the old one.
        for (column, _) in written {
            sql.append(identifier: column.name)
            sql.append(" = IF(`id` = VALUES(`id`) AND VALUES(`version`) > `version`, VALUES(")
            sql.append(identifier: column.name)
            sql.append("), ")
            sql.append(identifier: column.name)
            sql.append("), ")
        }
        sql.append("`version` = IF(`id` = VALUES(`id`), GREATEST(`version`, VALUES(`version`)), `version`)")
        return sql
    }

    // MARK: Messages

    private static let messageColumns: StaticString =
        "INSERT INTO `message` (`id`, `chat_type`, `type`, `from_id`, `to_id`, `from_name`, `from_avatar`, `to_name`, `to_avatar`, `data`, `options`, `create_time`, `isremove`, `version`) VALUES "

    /// A message fills in a placeholder a revoke left (version 0), never a real row.
    private static let messageUpdate: StaticString = """
         ON DUPLICATE KEY UPDATE `chat_type` = IF(`version` = 0, VALUES(`chat_type`), `chat_type`), \
        `type` = IF(`version` = 0, VALUES(`type`), `type`), `from_id` = IF(`version` = 0, VALUES(`from_id`), `from_id`), \
        `to_id` = IF(`version` = 0, VALUES(`to_id`), `to_id`), `from_name` = IF(`version` = 0, VALUES(`from_name`), `from_name`), \
        `from_avatar` = IF(`version` = 0, VALUES(`from_avatar`), `from_avatar`), \
        `to_name` = IF(`version` = 0, VALUES(`to_name`), `to_name`), `to_avatar` = IF(`version` = 0, VALUES(`to_avatar`), `to_avatar`), \
        `data` = IF(`version` = 0, VALUES(`data`), `data`), `options` = IF(`version` = 0, VALUES(`options`), `options`), \
        `create_time` = IF(`version` = 0, VALUES(`create_time`), `create_time`), \
        `isremove` = GREATEST(`isremove`, VALUES(`isremove`)), `version` = GREATEST(`version`, VALUES(`version`))
        """

    private static let revokeUpdate: StaticString = " ON DUPLICATE KEY UPDATE `isremove` = 1"

    private func insertMessages(_ records: [MessageRecord], placeholders: Bool, on connection: MariaDBConnection) throws {
        guard !records.isEmpty else { return }
        var sql = SQLText(capacity: min(maximumStatementBytes, records.count * 400 + 1024))
        var rows = 0
        func flush() throws {
            guard rows > 0 else { return }
            sql.append(placeholders ? Self.revokeUpdate : Self.messageUpdate)
            try connection.execute(sql.string)
            sql = SQLText(capacity: sql.count)
            rows = 0
        }
        for record in records {
            if rows > 0 && sql.count >= maximumStatementBytes { try flush() }
            if rows == 0 { sql.append(Self.messageColumns) } else { sql.append(",") }
            sql.append("(")
            sql.append(quoted: record.id)
            sql.append(",")
            sql.append(quoted: record.chatType)
            sql.append(",")
            sql.append(quoted: record.type)
            sql.append(",")
            sql.append(quoted: record.fromID)
            sql.append(",")
            sql.append(integer: record.toID)
            sql.append(",")
            sql.append(quoted: record.fromName)
            sql.append(",")
            sql.append(quoted: record.fromAvatar)
            sql.append(",")
            sql.append(quoted: record.toName)
            sql.append(",")
            sql.append(quoted: record.toAvatar)
            sql.append(",")
            sql.append(quoted: record.data)
            sql.append(",")
            sql.append(quoted: record.options)
            sql.append(",")
            sql.append(integer: record.createTime)
            sql.append(record.isRemoved ? ",1," : ",0,")
            sql.append(placeholders ? "0)" : "1)")
            rows += 1
        }
        try flush()
    }
}
