import Logging
import MariaDB
import Model
import RedisClient

/// `persister verify`: whether Redis holds what MariaDB says, after `persister hydrate`
/// (docs/migrating-from-eggjs.md) or any time the persister has drained. Two checks:
/// the count of every entity on both sides (`EntityTally`), and a random sample of rows
/// per entity whose every Redis write (`Hydrator.writes`: the row's hash or JSON with
/// every column and `_v`, its index entries and lookup keys) is read back and compared.
/// Reads only.
struct Verifier: Sendable {
    let session: MariaDBSession
    let redis: RedisClient
    /// The names of the keys (the process's layout), as hydrate writes them.
    var keys = RedisKeys.plain
    /// Rows sampled per entity (0: counts only).
    var sampleSize = 1000
    /// Owners (users, groups) per Redis pipeline when counting.
    var chunkSize = 1000
    /// Differences listed in the report; all are counted.
    var listed = 20
    let logger: Logger

    struct Count: Sendable {
        let entity: Entity
        let mariaDB: Int
        let redis: Int
    }

    struct Report: Sendable, CustomStringConvertible {
        var counts: [Count] = []
        var sampled: [Entity: Int] = [:]
        var differences = 0
        var listedDifferences: [String] = []
        var rowsPerSecond: Double = 0

        var matches: Bool { differences == 0 }

        var description: String {
            var lines = counts.map { count in
                "\(count.entity.rawValue): MariaDB \(count.mariaDB), Redis \(count.redis)\(count.mariaDB == count.redis ? "" : "  DIFFERENT")"
            }
            let sample = (RedisRowLayout.all.map(\.entity)).map { "\($0.rawValue) \(sampled[$0] ?? 0)" }.joined(separator: ", ")
            lines.append("sampled rows compared column by column: \(sample)")
            lines += listedDifferences.map { "  \($0)" }
            if differences > listedDifferences.count { lines.append("  … and \(differences - listedDifferences.count) more") }
            lines.append(matches
                ? "verify: Redis matches MariaDB (\(Int(rowsPerSecond)) rows/s)"
                : "verify: \(differences) difference(s) between MariaDB and Redis")
            return lines.joined(separator: "\n")
        }
    }

    func run() async throws -> Report {
        let schema = try await session.withConnection { try TableSchema.load(from: $0) }
        var report = Report()
        var total = 0
        for entity in Entity.allCases where schema.columns(of: entity.table) != nil {
            total += try await count(entity.table)
        }
        for layout in RedisRowLayout.all where schema.columns(of: layout.entity.table) != nil {
            total += min(sampleSize, try await count(layout.entity.table))
        }
        let progress = RowProgress(label: "verify", total: total, logger: logger)
        for entity in Entity.allCases {
            guard schema.columns(of: entity.table) != nil else {
                note("\(entity.table): no such table (run `persister migrate`)", in: &report)
                continue
            }
            let count = try await compareCount(of: entity, report: &report)
            report.counts.append(count)
            progress.advance(by: count.mariaDB, entity: entity.rawValue)
        }
        if sampleSize > 0 {
            for layout in RedisRowLayout.all {
                guard let columns = schema.columns(of: layout.entity.table) else { continue }
                let sampled = try await compareSample(LayoutQuery(layout, columns: columns), report: &report)
                report.sampled[layout.entity] = sampled
                progress.advance(by: sampled, entity: layout.entity.rawValue)
            }
        }
        progress.finish()
        report.rowsPerSecond = progress.rowsPerSecond
        return report
    }

    private func note(_ difference: String, in report: inout Report) {
        report.differences += 1
        if report.listedDifferences.count < listed { report.listedDifferences.append(difference) }
    }

    private func count(_ table: String, _ expression: String = "*") async throws -> Int {
        let sql = "SELECT COUNT(\(expression)) FROM \(MariaDBConnection.quoteIdentifier(table))"
        return try await session.withConnection { Int(try $0.query(sql).first?[0] ?? "0") ?? 0 }
    }

    // MARK: Counts

    private func compareCount(of entity: Entity, report: inout Report) async throws -> Count {
        switch EntityTally.of(entity, keys: keys) {
        case .indexed(let indexes):
            let rows = try await count(entity.table)
            var members = 0
            for reply in try await redis.pipeline(indexes.map { RedisCommand("ZCARD", $0) }) {
                members += Int(try reply.throwingOnError().integer ?? 0)
            }
            let index = indexes.count == 1 ? indexes[0] : "\(indexes[0]) and its \(indexes.count - 1) other partitions"
            if rows != members { note("\(entity.rawValue): \(rows) rows in MariaDB, \(members) in \(index)", in: &report) }
            return Count(entity: entity, mariaDB: rows, redis: members)
        case .list(let key, let kept):
            let rows = min(kept, try await count(entity.table))
            let length = Int(try await redis.send("LLEN", key).throwingOnError().integer ?? 0)
            if rows != length { note("\(entity.rawValue): the newest \(rows) rows in MariaDB, \(length) in \(key)", in: &report) }
            return Count(entity: entity, mariaDB: rows, redis: length)
        case .perOwner(let owner, let distinct, let owners, let command, let key):
            let table = MariaDBConnection.quoteIdentifier(entity.table)
            let sql = "SELECT \(MariaDBConnection.quoteIdentifier(owner)), COUNT(DISTINCT \(MariaDBConnection.quoteIdentifier(distinct))) FROM \(table) GROUP BY 1"
            var expected: [Int: Int] = [:]
            for row in try await session.withConnection({ try $0.query(sql) }) {
                guard let id = row[0].flatMap({ Int($0) }) else { continue }
                expected[id] = Int(row[1] ?? "0") ?? 0
            }
            var ids = Set(expected.keys)
            for reply in try await redis.pipeline(owners.map { RedisCommand("ZRANGE", $0, "0", "-1") }) {
                for member in try reply.throwingOnError().array ?? [] {
                    if let id = member.string.flatMap({ Int($0) }) { ids.insert(id) }
                }
            }
            let sorted = ids.sorted()
            var redisTotal = 0
            var start = 0
            while start < sorted.count {
                let chunk = sorted[start..<min(sorted.count, start + chunkSize)]
                let replies = try await redis.pipeline(chunk.map { RedisCommand(command, key($0)) })
                for (id, reply) in zip(chunk, replies) {
                    let held = Int(try reply.throwingOnError().integer ?? 0)
                    redisTotal += held
                    let rows = expected[id] ?? 0
                    if held != rows { note("\(entity.rawValue) of \(owner) \(id): \(rows) in MariaDB, \(held) in \(key(id))", in: &report) }
                }
                start += chunkSize
            }
            return Count(entity: entity, mariaDB: expected.values.reduce(0, +), redis: redisTotal)
        }
    }

    // MARK: Sampled rows

    private func compareSample(_ query: LayoutQuery, report: inout Report) async throws -> Int {
        let table = query.table
        let sql = """
            SELECT \(query.selectList(alias: "r")) FROM \(table) AS r
            JOIN (SELECT `id` FROM \(table) ORDER BY RAND() LIMIT \(sampleSize)) AS s ON r.`id` = s.`id` ORDER BY r.`id`
            """
        let rows = try await session.withConnection { try $0.query(sql) }
        var checks: [(row: String, write: RowWrite)] = []
        for row in rows {
            let (values, version) = query.values(of: row)
            let name = "\(query.layout.entity.rawValue) \(values["id"] ?? "?")"
            for write in Hydrator.writes(for: query.layout, values: values, version: version, keys: keys) { checks.append((name, write)) }
        }
        var start = 0
        while start < checks.count {
            let chunk = checks[start..<min(checks.count, start + chunkSize)]
            let replies = try await redis.pipeline(chunk.map { Self.read($0.write) })
            for (check, reply) in zip(chunk, replies) {
                for difference in Self.differences(of: check.write, reply: try reply.throwingOnError(), layout: query.layout) {
                    note("\(check.row): \(difference)", in: &report)
                }
            }
            start += chunkSize
        }
        return rows.count
    }

    /// The read that shows whether the write holds.
    static func read(_ write: RowWrite) -> RedisCommand {
        switch write {
        case .hash(let key, _): RedisCommand("HGETALL", key)
        case .field(let key, let field, _), .value(let key, let field, _): RedisCommand("HGET", key, field)
        case .string(let key, _, _): RedisCommand("GET", key)
        case .member(let key, _, let member), .notMember(let key, let member): RedisCommand("ZSCORE", key, member)
        case .bump(let key): RedisCommand("EXISTS", key)
        }
    }

    /// What differs between the write and what Redis answered to `read(write)`.
    static func differences(of write: RowWrite, reply: RedisReply, layout: RedisRowLayout) -> [String] {
        func shown(_ value: String?) -> String { value.map { "'\($0.count > 60 ? String($0.prefix(60)) + "…" : $0)'" } ?? "none" }
        switch write {
        case .hash(let key, let fields):
            var expected: [String: String] = [:]
            for index in stride(from: 0, to: fields.count - 1, by: 2) { expected[fields[index]] = fields[index + 1] }
            let held = reply.fieldValues
            if held.isEmpty { return ["\(key) is missing"] }
            return (layout.columns + ["_v"]).compactMap { column in
                expected[column] == held[column] ? nil : "\(key) \(column): MariaDB \(shown(expected[column])), Redis \(shown(held[column]))"
            }
        case .field(let key, let field, let json):
            guard let held = reply.string else { return ["\(key) has no field \(field)"] }
            let expected = Self.columns(json), actual = Self.columns(held)
            return (layout.columns + ["_v"]).compactMap { column in
                expected[column] == actual[column] ? nil : "\(key) \(field) \(column): MariaDB \(shown(expected[column] ?? nil)), Redis \(shown(actual[column] ?? nil))"
            }
        case .value(let key, let field, let value):
            return reply.string == value ? [] : ["\(key) \(field): MariaDB \(shown(value)), Redis \(shown(reply.string))"]
        case .string(let key, let value, let newestRowWins):
            if newestRowWins { return [] }
            return reply.string == value ? [] : ["\(key): MariaDB \(shown(value)), Redis \(shown(reply.string))"]
        case .member(let key, let score, let member):
            guard let held = reply.string.flatMap(Double.init) else { return ["\(key) lacks \(member)"] }
            return held == Double(score) ? [] : ["\(key) \(member): score \(score) expected, Redis \(reply.string ?? "")"]
        case .notMember(let key, let member):
            return reply.string == nil ? [] : ["\(key) holds \(member), which MariaDB's row says it must not"]
        case .bump:
            return []
        }
    }

    /// A JSON row's columns as text (numbers and strings alike; null as nil).
    static func columns(_ json: String) -> [String: String?] {
        guard case .object(let object)? = try? JSONParser.parse(json) else { return [:] }
        var result: [String: String?] = [:]
        for (key, value) in object.members {
            switch value {
            case .string(let text): result[key] = .some(text)
            case .integer(let number): result[key] = .some(String(number))
            case .double(let number): result[key] = .some(String(number))
            case .bool(let flag): result[key] = .some(flag ? "true" : "false")
            case .null: result[key] = .some(nil)
            default: result[key] = .some(JSONSerializer.string(value))
            }
        }
        return result
    }
}
