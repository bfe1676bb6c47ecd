import MariaDB
import Model

/// A decoded stream entry, ready to be written.
enum PersistableEntry: Sendable {
    case entity(EntityChange)
    case message(MessageRecord)

    /// The entry to write; nil for a public copy the persister has from the private stream
    /// (``isPublicCopy(entity:version:stream:)``).
    static func decode(_ entry: StreamEntry) throws(EntryError) -> PersistableEntry? {
        if entry.kind == StreamName.messages {
            return .message(try MessageRecord(entry.fields))
        }
        let fields = entry.fields.dictionary
        if isPublicCopy(entity: fields["entity"], version: fields["v"], stream: entry.kind) { return nil }
        let change = try EntityChange(fields: fields)
        if change.entity.isPrivate && entry.kind != StreamName.privateEntities {
            throw EntryError("\(change.entity.rawValue) events come on \(StreamName.privateEntities) only, not \(entry.stream)")
        }
        return .entity(change)
    }

    /// A `user` event of contract version 2 or later on the public entity stream carries
    /// only the public columns; the whole row comes on the private stream, which is what
    /// is written (docs/architecture.md, *Streams*). A version 1 event (a bridge from before
    /// the private stream) carries the whole row and is written as it is.
    static func isPublicCopy(entity: String?, version: String?, stream: String) -> Bool {
        stream == StreamName.entities && entity == Entity.user.rawValue && (version.flatMap { Int($0) } ?? 1) >= 2
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
/// - Messages: `LOAD DATA LOCAL INFILE … IGNORE` of the batch's rows, sent from memory
///   (multi-row `INSERT IGNORE` where the server refuses LOCAL INFILE), once by id: a row
///   there already is skipped. A revoke that arrives before its message (a replay, a
///   claim) inserts a placeholder (`version` 0, `isremove` 1, the revoke's fields); when
///   a load finds rows there, the placeholders among them get the message's own fields and
///   keep `isremove` 1. A message row has `version` 1.
struct BatchWriter: Sendable {
    let schema: TableSchema
    /// Messages go with `LOAD DATA LOCAL INFILE` (measured: docs/benchmarks.md, *Persister*);
    /// false where the server's `local_infile` is off.
    var loadsMessages = true
    /// Longest multi-row statement (MariaDB's `max_allowed_packet` is 16 MiB by default).
    var maximumStatementBytes = 4 << 20

    /// Whether the server takes `LOAD DATA LOCAL INFILE` (its `local_infile`; the client
    /// side is ``MariaDB/MariaDBConfiguration/localData``).
    static func serverLoadsLocalData(_ connection: MariaDBConnection) throws -> Bool {
        try connection.query("SELECT @@GLOBAL.local_infile").first?[0] == "1"
    }

    /// Per-session settings the writer relies on: backslash escapes (see ``SQLText`` and
    /// ``LoadDataRows``).
    static func prepare(_ connection: MariaDBConnection) throws {
        let mode = try connection.query("SELECT @@SESSION.sql_mode").first?[0] ?? ""
        if mode.uppercased().contains("NO_BACKSLASH_ESCAPES") {
            let kept = mode.split(separator: ",").filter { $0.uppercased() != "NO_BACKSLASH_ESCAPES" }.joined(separator: ",")
            try connection.execute("SET SESSION sql_mode = \(try connection.quote(kept))")
        }
    }

    /// Entries made ready for one transaction: the entity changes (applied against the
    /// tombstones they find) and the message statements, built without a connection so
    /// that a batch can be prepared while the previous one is being written.
    struct PreparedWrite: Sendable {
        let changes: [EntityChange]
        let messageStatements: [MessageStatement]
        let messageCount: Int
    }

    /// One statement of message rows and the records it holds (for the rare rows that
    /// were there).
    struct MessageStatement: Sendable {
        enum Body: Sendable {
            /// `LOAD DATA` of these rows (``LoadDataRows``).
            case load(rows: [UInt8])
            /// A multi-row `INSERT`.
            case insert(sql: [UInt8])
        }

        let body: Body
        let records: [MessageRecord]
        let placeholders: Bool
    }

    /// Whether the write is one statement: then it commits on its own (autocommit), which
    /// is the same single transaction without the round trips and the cost MariaDB adds
    /// to an explicit one (measured: about a fifth on a batch of 2000 messages).
    func isSingleStatement(_ prepared: PreparedWrite) -> Bool {
        prepared.changes.isEmpty && prepared.messageStatements.count == 1
    }

    func prepare(_ entries: [PersistableEntry]) -> PreparedWrite {
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
        // Messages before revokes: a revoke of a message of the same batch then only sets
        // its flag.
        var statements: [MessageStatement] = []
        if loadsMessages && !messages.isEmpty {
            statements.append(MessageStatement(body: .load(rows: Self.loadRows(messages)), records: messages, placeholders: false))
        } else {
            statements += messageStatements(messages, placeholders: false)
        }
        statements += messageStatements(revokes, placeholders: true)
        return PreparedWrite(changes: changes, messageStatements: statements, messageCount: messages.count + revokes.count)
    }

    /// Writes `entries` in order; returns the number of entries applied (not skipped).
    @discardableResult
    func write(_ entries: [PersistableEntry], on connection: MariaDBConnection) throws -> Int {
        try write(prepare(entries), on: connection)
    }

    @discardableResult
    func write(_ prepared: PreparedWrite, on connection: MariaDBConnection) throws -> Int {
        var applied = 0
        if !prepared.changes.isEmpty { applied += try writeEntities(prepared.changes, on: connection) }
        for statement in prepared.messageStatements {
            let inserted = switch statement.body {
            case .load(let rows): try connection.loadLocalData(Self.loadStatement, file: Self.loadFile, contents: rows)
            case .insert(let sql): try connection.execute(utf8: sql)
            }
            if !statement.placeholders && inserted < UInt64(statement.records.count) {
                try fillPlaceholders(statement.records, on: connection)
            }
        }
        return applied + prepared.messageCount
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

    /// The name the rows are offered under for the statement: no file is read, the
    /// connection serves this name only, from memory.
    static let loadFile = "chat-bridge-message-rows"

    /// IGNORE: a row that is there already is a replay, or a revoke's placeholder (below).
    /// The rows are UTF-8 whatever the database's default character set.
    static let loadStatement: [UInt8] = {
        var sql = SQLText()
        sql.append("LOAD DATA LOCAL INFILE ")
        sql.append(quoted: loadFile)
        sql.append(" IGNORE INTO TABLE `message` CHARACTER SET utf8mb4")
        sql.append(LoadDataRows.fieldsClause)
        sql.append("(`id`, `chat_type`, `type`, `from_id`, `to_id`, `from_name`, `from_avatar`, `to_name`, `to_avatar`, `data`, `options`, `create_time`, `isremove`, `version`)")
        return sql.bytes
    }()

    /// The messages as rows of the load, in its columns' order; `version` 1.
    static func loadRows(_ records: [MessageRecord]) -> [UInt8] {
        // Each record's `source` is the whole stream reply: count the texts it uses.
        var rows = LoadDataRows(capacity: records.reduce(0) { $0 + $1.textBytes + 64 })
        for record in records {
            rows.append(text: record.id)
            rows.append(literal: record.chatType == .single ? "single" : "group")
            rows.append(text: record.source[record.type])
            rows.append(text: record.source[record.fromID])
            rows.append(integer: record.toID)
            rows.append(text: record.source[record.fromName])
            rows.append(text: record.source[record.fromAvatar])
            rows.append(text: record.source[record.toName])
            rows.append(text: record.source[record.toAvatar])
            rows.append(text: record.source[record.data])
            if let options = record.options { rows.append(text: record.source[options]) } else { rows.append(literal: "{}") }
            rows.append(integer: record.createTime)
            rows.append(literal: record.isRemoved ? "1" : "0")
            rows.append(literal: "1")
            rows.endRow()
        }
        return rows.bytes
    }

    private static let revokeColumns: StaticString =
        "INSERT INTO `message` (`id`, `chat_type`, `type`, `from_id`, `to_id`, `from_name`, `from_avatar`, `to_name`, `to_avatar`, `data`, `options`, `create_time`, `isremove`, `version`) VALUES "

    /// IGNORE: a row that is there already is a replay, or a revoke's placeholder (below).
    private static let messageColumns: StaticString =
        "INSERT IGNORE INTO `message` (`id`, `chat_type`, `type`, `from_id`, `to_id`, `from_name`, `from_avatar`, `to_name`, `to_avatar`, `data`, `options`, `create_time`, `isremove`, `version`) VALUES "

    private static let revokeUpdate: StaticString = " ON DUPLICATE KEY UPDATE `isremove` = 1"

    /// Some rows of an INSERT IGNORE were there already: replays (nothing to do) or
    /// placeholders a revoke left (version 0), which get the message's own fields and keep
    /// `isremove` 1. Rare, so one small statement per placeholder.
    private func fillPlaceholders(_ records: [MessageRecord], on connection: MariaDBConnection) throws {
        var query = SQLText()
        query.append("SELECT `id` FROM `message` WHERE `version` = 0 AND `id` IN (")
        for record in records {
            query.append(quoted: record.id)
            query.append(",")
        }
        query.removeLast()
        query.append(")")
        let placeholders = Set(try connection.query(query.string).compactMap { $0[0] })
        guard !placeholders.isEmpty else { return }
        for record in records where placeholders.contains(record.id) {
            var sql = SQLText()
            sql.append("UPDATE `message` SET `chat_type` = ")
            sql.append(quoted: record.chatType.rawValue)
            sql.append(", `type` = ")
            sql.append(quoted: record.source[record.type])
            sql.append(", `from_id` = ")
            sql.append(quoted: record.source[record.fromID])
            sql.append(", `to_id` = ")
            sql.append(integer: record.toID)
            sql.append(", `from_name` = ")
            sql.append(quoted: record.source[record.fromName])
            sql.append(", `from_avatar` = ")
            sql.append(quoted: record.source[record.fromAvatar])
            sql.append(", `to_name` = ")
            sql.append(quoted: record.source[record.toName])
            sql.append(", `to_avatar` = ")
            sql.append(quoted: record.source[record.toAvatar])
            sql.append(", `data` = ")
            sql.append(quoted: record.source[record.data])
            sql.append(", `options` = ")
            appendOptions(of: record, to: &sql)
            sql.append(", `create_time` = ")
            sql.append(integer: record.createTime)
            sql.append(", `version` = 1 WHERE `id` = ")
            sql.append(quoted: record.id)
            sql.append(" AND `version` = 0")
            try connection.execute(sql.string)
        }
    }

    private func appendOptions(of record: MessageRecord, to sql: inout SQLText) {
        if let options = record.options { sql.append(quoted: record.source[options]) } else { sql.append("'{}'") }
    }

    private func messageStatements(_ records: [MessageRecord], placeholders: Bool) -> [MessageStatement] {
        guard !records.isEmpty else { return [] }
        var statements: [MessageStatement] = []
        var first = 0
        var sql = SQLText(capacity: min(maximumStatementBytes, records.count * 400 + 1024))
        var rows = 0
        func flush() {
            guard rows > 0 else { return }
            if placeholders { sql.append(Self.revokeUpdate) }
            statements.append(MessageStatement(body: .insert(sql: sql.bytes), records: Array(records[first..<(first + rows)]), placeholders: placeholders))
            sql = SQLText(capacity: sql.count)
            first += rows
            rows = 0
        }
        for record in records {
            if rows > 0 && sql.count >= maximumStatementBytes { flush() }
            if rows == 0 { sql.append(placeholders ? Self.revokeColumns : Self.messageColumns) } else { sql.append(",") }
            sql.append("(")
            sql.append(quoted: record.id)
            sql.append(record.chatType == .single ? ",'single'," : ",'group',")
            sql.append(quoted: record.source[record.type])
            sql.append(",")
            sql.append(quoted: record.source[record.fromID])
            sql.append(",")
            sql.append(integer: record.toID)
            sql.append(",")
            sql.append(quoted: record.source[record.fromName])
            sql.append(",")
            sql.append(quoted: record.source[record.fromAvatar])
            sql.append(",")
            sql.append(quoted: record.source[record.toName])
            sql.append(",")
            sql.append(quoted: record.source[record.toAvatar])
            sql.append(",")
            sql.append(quoted: record.source[record.data])
            sql.append(",")
            appendOptions(of: record, to: &sql)
            sql.append(",")
            sql.append(integer: record.createTime)
            sql.append(record.isRemoved ? ",1," : ",0,")
            sql.append(placeholders ? "0)" : "1)")
            rows += 1
        }
        flush()
        return statements
    }
}
