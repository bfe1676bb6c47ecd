import Logging
import MariaDB
import Model
import RedisClient

/// `persister hydrate`: rebuilds the Redis entity state from MariaDB (users and their
/// indexes, profiles, friends, friend requests with their pair and list keys, groups,
/// members, the user → groups sets, blocks, complaints, the console's accounts, indexes
/// and newest audit rows, the id counters), for disaster recovery and for
/// importing an old eggjs database. Rows are read in id order, a chunk at a time, and
/// each chunk's keys are written in one pipeline.
///
/// Keys of rows that exist are overwritten; nothing else is deleted. Run it with the
/// bridges stopped (or on a fresh Redis): a change made while it runs may be undone.
struct Hydrator: Sendable {
    let session: MariaDBSession
    let redis: RedisClient
    var chunkSize = 2000
    let logger: Logger

    struct Report: Sendable, CustomStringConvertible {
        var rows: [Entity: Int] = [:]
        var counters: [String: Int64] = [:]

        var description: String {
            let counts = RedisRowLayout.all.map { "\($0.entity.rawValue) \(rows[$0.entity] ?? 0)" }.joined(separator: ", ")
            let ids = counters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            return "hydrated Redis from MariaDB: \(counts); counters \(ids)"
        }
    }

    func run() async throws -> Report {
        let schema = try await session.withConnection { try TableSchema.load(from: $0) }
        var report = Report()
        for layout in RedisRowLayout.all {
            guard let columns = schema.columns(of: layout.entity.table) else {
                throw PersisterError("table \(layout.entity.table) does not exist: run `persister migrate` first")
            }
            report.rows[layout.entity] = try await hydrate(layout, columns: columns)
        }
        report.rows[.adminAudit] = try await hydrateAudit(schema: schema)
        for entity in Entity.allCases {
            guard schema.columns(of: entity.table) != nil else { continue }
            let table = MariaDBConnection.quoteIdentifier(entity.table)
            let maximum = try await session.withConnection { connection in
                try connection.query("SELECT IFNULL(MAX(`id`), 0) FROM \(table)").first?[0].flatMap { Int64($0) } ?? 0
            }
            report.counters[entity.rawValue] = try await raiseCounter(RedisKeys.idCounter(entity.rawValue), to: maximum)
        }
        return report
    }

    private func hydrate(_ layout: RedisRowLayout, columns: [TableSchema.Column]) async throws -> Int {
        let kinds = Dictionary(columns.map { ($0.name, $0.kind) }, uniquingKeysWith: { first, _ in first })
        let selected = layout.columns.filter { kinds[$0] != nil }
        let hasVersion = kinds["version"] != nil
        let list = (selected + (hasVersion ? ["version"] : [])).map(MariaDBConnection.quoteIdentifier).joined(separator: ", ")
        let table = MariaDBConnection.quoteIdentifier(layout.entity.table)
        var lastID: Int64 = 0
        var total = 0
        while true {
            let sql = "SELECT \(list) FROM \(table) WHERE `id` > \(lastID) ORDER BY `id` LIMIT \(chunkSize)"
            let result = try await session.withConnection { try $0.query(sql) }
            guard !result.isEmpty else { break }
            var commands: [RedisCommand] = []
            commands.reserveCapacity(result.count * 4)
            for row in result {
                var values: [String: String] = [:]
                for (index, column) in selected.enumerated() {
                    if let value = row[index] { values[column] = RedisRowLayout.redisText(value, kind: kinds[column] ?? .text) }
                }
                let version = max(1, hasVersion ? Int64(row[selected.count] ?? "") ?? 1 : 1)
                commands += Self.commands(for: layout, values: values, version: version)
                lastID = max(lastID, values["id"].flatMap { Int64($0) } ?? lastID)
            }
            for reply in try await redis.pipeline(commands) { try reply.throwingOnError() }
            total += result.count
            if result.count < chunkSize { break }
        }
        logger.info("hydrated", metadata: ["entity": "\(layout.entity.rawValue)", "rows": "\(total)"])
        return total
    }

    /// The writes of one row, as the scripts make them.
    static func commands(for layout: RedisRowLayout, values: [String: String], version: Int64) -> [RedisCommand] {
        guard let id = values["id"] else { return [] }
        func hash(_ key: String) -> [RedisCommand] {
            [RedisCommand("DEL", key), RedisCommand("HSET", [key as any RedisArgument] + layout.hashFields(values, version: version))]
        }
        switch layout.entity {
        case .user:
            guard let userID = Int(id) else { return [] }
            var commands = hash(RedisKeys.user(userID))
            if let username = values["username"] {
                commands.append(RedisCommand("SET", RedisKeys.userByName(username), id))
                commands.append(RedisCommand("ZADD", RedisKeys.userNames, "0", username))
            }
            commands.append(RedisCommand("ZADD", RedisKeys.users, id, id))
            if let nickname = values["nickname"], !nickname.isEmpty {
                commands.append(RedisCommand("ZADD", RedisKeys.userNicknames, "0", RedisKeys.nicknameEntry(nickname, userID)))
            }
            if let uuid = values["uuid"] { commands.append(RedisCommand("SET", RedisKeys.userByUUID(uuid), id)) }
            if let device = values["devicefingeruuid"], !device.isEmpty {
                commands.append(RedisCommand("SET", RedisKeys.userByDevice(device), id))
            }
            return commands
        case .userInfo:
            // Keyed by the user, not the row: chat:userinfo:{uid}.
            guard let userID = values["user_id"].flatMap({ Int($0) }) else { return [] }
            return hash(RedisKeys.userInfo(userID))
        case .goodfriend:
            guard let owner = values["user_id"].flatMap({ Int($0) }), let friend = values["friend_id"] else { return [] }
            return [RedisCommand("HSET", RedisKeys.friends(owner), friend, layout.json(values, version: version))]
        case .goodfriendapply:
            guard let requestID = Int(id), let from = values["user_id"].flatMap({ Int($0) }),
                  let to = values["friend_id"].flatMap({ Int($0) }) else { return [] }
            // Rows come in id order: an old database's several rows for one pair leave
            // the newest in the pair key.
            var commands = hash(RedisKeys.friendRequest(requestID))
            commands.append(RedisCommand("SET", RedisKeys.friendRequestPair(from: from, to: to), id))
            commands.append(RedisCommand("ZADD", RedisKeys.friendRequestsTo(to), id, id))
            if values["status"] == "pending" {
                commands.append(RedisCommand("ZADD", RedisKeys.pendingFriendRequestsTo(to), id, id))
            } else {
                commands.append(RedisCommand("ZREM", RedisKeys.pendingFriendRequestsTo(to), id))
            }
            return commands
        case .group:
            guard let groupID = Int(id) else { return [] }
            return hash(RedisKeys.group(groupID)) + [RedisCommand("ZADD", RedisKeys.groups, id, id)]
        case .groupUser:
            guard let groupID = values["group_id"].flatMap({ Int($0) }), let member = values["user_id"].flatMap({ Int($0) })
            else { return [] }
            var commands = [
                RedisCommand("HSET", RedisKeys.groupMembers(groupID), String(member), layout.json(values, version: version)),
                // The bridge caches member lists by this counter: a new value invalidates them.
                RedisCommand("INCR", RedisKeys.groupMembers(groupID) + ":v"),
            ]
            // Members (status 1, or 0 muted) list the group; applicants (2) do not.
            if values["status"] != "2" {
                commands.append(RedisCommand("ZADD", RedisKeys.groupsOfUser(member), String(groupID), String(groupID)))
            }
            return commands
        case .block:
            guard let blocker = values["user_id"].flatMap({ Int($0) }), let blocked = values["blocked_id"] else { return [] }
            return [RedisCommand("HSET", RedisKeys.blocks(blocker), blocked, layout.json(values, version: version))]
        case .complaint:
            guard let complaintID = Int(id), let status = values["status"].flatMap({ Int($0) }) else { return [] }
            var commands = hash(RedisKeys.complaint(complaintID))
            commands.append(RedisCommand("ZADD", RedisKeys.complaints, id, id))
            for other in 0...3 where other != status {
                commands.append(RedisCommand("ZREM", RedisKeys.complaints(status: other), id))
            }
            commands.append(RedisCommand("ZADD", RedisKeys.complaints(status: status), id, id))
            if let reporter = values["user_id"].flatMap({ Int($0) }) {
                commands.append(values["is_deleted"] == "1"
                    ? RedisCommand("ZREM", RedisKeys.complaintsOfUser(reporter), id)
                    : RedisCommand("ZADD", RedisKeys.complaintsOfUser(reporter), id, id))
            }
            return commands
        case .admin:
            guard let name = values["name"] else { return [] }
            return hash(RedisKeys.admin(name)) + [RedisCommand("ZADD", RedisKeys.admins, id, name)]
        case .askanswer, .adminAudit:
            return []
        }
    }

    /// The newest audit rows (`RedisKeys.adminAuditKept`), newest first, as the scripts
    /// write them into the audit list (`lua/lib/audit.lua`); the list is replaced.
    private func hydrateAudit(schema: TableSchema) async throws -> Int {
        let layout = RedisRowLayout.adminAudit
        guard let columns = schema.columns(of: layout.entity.table) else {
            throw PersisterError("table \(layout.entity.table) does not exist: run `persister migrate` first")
        }
        let kinds = Dictionary(columns.map { ($0.name, $0.kind) }, uniquingKeysWith: { first, _ in first })
        let list = layout.columns.map(MariaDBConnection.quoteIdentifier).joined(separator: ", ")
        let sql = "SELECT \(list) FROM `admin_audit` ORDER BY `id` DESC LIMIT \(RedisKeys.adminAuditKept)"
        let result = try await session.withConnection { try $0.query(sql) }
        var commands = [RedisCommand("DEL", RedisKeys.adminAudit)]
        var rows: [any RedisArgument] = [RedisKeys.adminAudit]
        for row in result {
            var values: [String: String] = [:]
            for (index, column) in layout.columns.enumerated() {
                if let value = row[index] { values[column] = RedisRowLayout.redisText(value, kind: kinds[column] ?? .text) }
            }
            rows.append(layout.json(values, version: nil))
            if rows.count > chunkSize {
                commands.append(RedisCommand("RPUSH", rows))
                rows = [RedisKeys.adminAudit]
            }
        }
        if rows.count > 1 { commands.append(RedisCommand("RPUSH", rows)) }
        for reply in try await redis.pipeline(commands) { try reply.throwingOnError() }
        logger.info("hydrated", metadata: ["entity": "admin_audit", "rows": "\(result.count)"])
        return result.count
    }

    /// Sets the counter to `maximum` unless it is higher already (ids are never reused).
    private func raiseCounter(_ key: String, to maximum: Int64) async throws -> Int64 {
        let current = try await redis.send("GET", key).throwingOnError().integer ?? 0
        guard maximum > current else { return current }
        try await redis.send("SET", key, String(maximum)).throwingOnError()
        return maximum
    }
}
