import Logging
import MariaDB
import Model
import RedisClient

/// `persister hydrate`: rebuilds the Redis entity state from MariaDB (users and their
/// indexes, profiles, friends, friend requests with their pair and list keys, groups,
/// members, the user → groups sets, blocks, complaints, Q&A pairs, the console's accounts,
/// indexes and newest audit rows, the id counters), for disaster recovery and for
/// importing an old eggjs database. Rows are read in id order, a chunk at a time, and
/// each chunk's keys are written in one pipeline.
///
/// Keys of rows that exist are overwritten; nothing else is deleted. Run it with the
/// bridges stopped (or on a fresh Redis): a change made while it runs may be undone, so
/// `HydrateCommand` refuses while a bridge's heartbeat is fresh (`LiveBridges`).
struct Hydrator: Sendable {
    let session: MariaDBSession
    let redis: RedisClient
    /// The names the keys get: a user's and a group's keys in their partition on a tagged
    /// layout (the process's `--redis-partitions`).
    var keys = RedisKeys.plain
    var chunkSize = 2000
    /// Reads and counts everything, writes nothing (`--dry-run`).
    var dryRun = false
    /// Shows rows done of the total while it runs (nil: silent).
    var progressLabel: String? = "hydrate"
    let logger: Logger

    struct Report: Sendable, CustomStringConvertible {
        var rows: [Entity: Int] = [:]
        var counters: [String: Int64] = [:]
        var dryRun = false
        var rowsPerSecond: Double = 0

        var description: String {
            let counts = (RedisRowLayout.all.map(\.entity) + [.adminAudit]).map { "\($0.rawValue) \(rows[$0] ?? 0)" }.joined(separator: ", ")
            let ids = counters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let rate = "\(Int(rowsPerSecond)) rows/s"
            return dryRun
                ? "dry run, nothing written: would hydrate Redis from MariaDB: \(counts); counters \(ids); read at \(rate)"
                : "hydrated Redis from MariaDB: \(counts); counters \(ids); \(rate)"
        }
    }

    func run() async throws -> Report {
        let schema = try await session.withConnection { try TableSchema.load(from: $0) }
        var report = Report(dryRun: dryRun)
        var tables: [(RedisRowLayout, [TableSchema.Column])] = []
        for layout in RedisRowLayout.all + [RedisRowLayout.adminAudit] {
            guard let columns = schema.columns(of: layout.entity.table) else {
                throw PersisterError("table \(layout.entity.table) does not exist: run `persister migrate` first")
            }
            tables.append((layout, columns))
        }
        var total = 0
        for (layout, _) in tables {
            let count = try await count(layout.entity.table)
            total += layout.entity == .adminAudit ? min(count, RedisKeys.adminAuditKept) : count
        }
        let progress = progressLabel.map { RowProgress(label: $0, total: total, logger: logger) }
        for (layout, columns) in tables where layout.entity != .adminAudit {
            report.rows[layout.entity] = try await hydrate(layout, columns: columns, progress: progress)
        }
        report.rows[.adminAudit] = try await hydrateAudit(schema: schema, progress: progress)
        try await hydrateActiveGroups()
        progress?.finish()
        report.rowsPerSecond = progress?.rowsPerSecond ?? 0
        for entity in Entity.allCases {
            guard schema.columns(of: entity.table) != nil else { continue }
            let table = MariaDBConnection.quoteIdentifier(entity.table)
            let maximum = try await session.withConnection { connection in
                try connection.query("SELECT IFNULL(MAX(`id`), 0) FROM \(table)").first?[0].flatMap { Int64($0) } ?? 0
            }
            report.counters[entity.rawValue] = try await raiseCounter(Self.counter(of: entity, keys: keys), to: maximum)
        }
        return report
    }

    /// An entity's id counter: the console's in the audit's slot (``RedisKeys/adminIDs``),
    /// the others global, one key each.
    static func counter(of entity: Entity, keys: RedisKeys) -> String {
        switch entity {
        case .admin: keys.adminIDs
        case .adminAudit: keys.adminAuditIDs
        default: RedisKeys.idCounter(entity.rawValue)
        }
    }

    /// A tagged layout's active groups of each member (`chat:user:{uid}:groups:active`,
    /// which the group steps keep in the member's partition): the gids of the member rows
    /// (not applications) whose group is active. One Redis reads the groups' rows instead.
    private func hydrateActiveGroups() async throws {
        guard keys.layout.isTagged else { return }
        let members = MariaDBConnection.quoteIdentifier(Entity.groupUser.table)
        let groups = MariaDBConnection.quoteIdentifier(Entity.group.table)
        var lastID: Int64 = 0
        while true {
            let sql = "SELECT m.`id`, m.`user_id`, m.`group_id` FROM \(members) m JOIN \(groups) g ON g.`id` = m.`group_id` "
                + "WHERE m.`id` > \(lastID) AND m.`status` <> 2 AND g.`status` = 1 ORDER BY m.`id` LIMIT \(chunkSize)"
            let result = try await session.withConnection { try $0.query(sql) }
            var commands: [RedisCommand] = []
            for row in result {
                guard let id = row[0].flatMap({ Int64($0) }), let user = row[1].flatMap({ Int($0) }), let group = row[2] else { continue }
                lastID = max(lastID, id)
                commands.append(RedisCommand("ZADD", keys.activeGroupsOfUser(user), group, group))
            }
            if !dryRun {
                for reply in try await redis.pipeline(commands) { try reply.throwingOnError() }
            }
            if result.count < chunkSize { break }
        }
    }

    private func count(_ table: String) async throws -> Int {
        let sql = "SELECT COUNT(*) FROM \(MariaDBConnection.quoteIdentifier(table))"
        return try await session.withConnection { Int(try $0.query(sql).first?[0] ?? "0") ?? 0 }
    }

    private func hydrate(_ layout: RedisRowLayout, columns: [TableSchema.Column], progress: RowProgress?) async throws -> Int {
        let query = LayoutQuery(layout, columns: columns)
        var lastID: Int64 = 0
        var total = 0
        while true {
            let sql = "SELECT \(query.selectList()) FROM \(query.table) WHERE `id` > \(lastID) ORDER BY `id` LIMIT \(chunkSize)"
            let result = try await session.withConnection { try $0.query(sql) }
            guard !result.isEmpty else { break }
            var commands: [RedisCommand] = []
            commands.reserveCapacity(result.count * 4)
            for row in result {
                let (values, version) = query.values(of: row)
                commands += Self.commands(for: layout, values: values, version: version, keys: keys)
                lastID = max(lastID, values["id"].flatMap { Int64($0) } ?? lastID)
            }
            if !dryRun {
                for reply in try await redis.pipeline(commands) { try reply.throwingOnError() }
            }
            total += result.count
            progress?.advance(by: result.count, entity: layout.entity.rawValue)
            if result.count < chunkSize { break }
        }
        logger.info("hydrated", metadata: ["entity": "\(layout.entity.rawValue)", "rows": "\(total)", "dry_run": "\(dryRun)"])
        return total
    }

    /// The writes of one row, as the scripts make them, with the layout's names: a
    /// user's, a friend request's (its recipient's), a complaint's (its reporter's) keys and
    /// indexes in their partition; the console's accounts in the audit's slot. The unique
    /// claims keep their one name (each its own slot).
    static func writes(for layout: RedisRowLayout, values: [String: String], version: Int64, keys: RedisKeys) -> [RowWrite] {
        guard let id = values["id"] else { return [] }
        func hash(_ key: String) -> [RowWrite] {
            [.hash(key, layout.hashFields(values, version: version))]
        }
        switch layout.entity {
        case .user:
            guard let userID = Int(id) else { return [] }
            var rowWrites = hash(keys.user(userID))
            if let username = values["username"] {
                rowWrites.append(.string(keys.userByName(username), id))
                rowWrites.append(.member(keys.userNames(ofUser: userID), "0", username))
                // A tagged layout's username → id of the partition (what finds a lost claim's holder).
                if keys.layout.isTagged { rowWrites.append(.value(keys.userIDsByName(ofUser: userID), username, id)) }
            }
            rowWrites.append(.member(keys.users(ofUser: userID), id, id))
            if let nickname = values["nickname"], !nickname.isEmpty {
                rowWrites.append(.member(keys.userNicknames(ofUser: userID), "0", RedisKeys.nicknameEntry(nickname, userID)))
            }
            if let uuid = values["uuid"] { rowWrites.append(.string(keys.userByUUID(uuid), id)) }
            if let device = values["devicefingeruuid"], !device.isEmpty {
                rowWrites.append(.string(keys.userByDevice(device), id))
            }
            return rowWrites
        case .userInfo:
            // Keyed by the user, not the row: chat:userinfo:{uid}.
            guard let userID = values["user_id"].flatMap({ Int($0) }) else { return [] }
            return hash(keys.userInfo(userID))
        case .goodfriend:
            guard let owner = values["user_id"].flatMap({ Int($0) }), let friend = values["friend_id"] else { return [] }
            return [.field(keys.friends(owner), friend, layout.json(values, version: version))]
        case .goodfriendapply:
            guard let requestID = Int(id), let from = values["user_id"].flatMap({ Int($0) }),
                  let to = values["friend_id"].flatMap({ Int($0) }) else { return [] }
            // Rows come in id order: an old database's several rows for one pair leave
            // the newest in the pair key.
            var rowWrites = hash(keys.friendRequest(requestID, to: to))
            rowWrites.append(.string(keys.friendRequestPair(from: from, to: to), id, newestRowWins: true))
            rowWrites.append(.member(keys.friendRequestsTo(to), id, id))
            if values["status"] == "pending" {
                rowWrites.append(.member(keys.pendingFriendRequestsTo(to), id, id))
            } else {
                rowWrites.append(.notMember(keys.pendingFriendRequestsTo(to), id))
            }
            return rowWrites
        case .group:
            guard let groupID = Int(id) else { return [] }
            return hash(keys.group(groupID)) + [.member(keys.groups(ofGroup: groupID), id, id)]
        case .groupUser:
            guard let groupID = values["group_id"].flatMap({ Int($0) }), let member = values["user_id"].flatMap({ Int($0) })
            else { return [] }
            var rowWrites: [RowWrite] = [
                .field(keys.groupMembers(groupID), String(member), layout.json(values, version: version)),
                // The bridge caches member lists by this counter: a new value invalidates them.
                .bump(keys.groupMembersVersion(groupID)),
            ]
            // Members (status 1, or 0 muted) list the group; applicants (2) do not.
            if values["status"] != "2" {
                rowWrites.append(.member(keys.groupsOfUser(member), String(groupID), String(groupID)))
            }
            return rowWrites
        case .block:
            guard let blocker = values["user_id"].flatMap({ Int($0) }), let blocked = values["blocked_id"] else { return [] }
            return [.field(keys.blocks(blocker), blocked, layout.json(values, version: version))]
        case .complaint:
            guard let complaintID = Int(id), let status = values["status"].flatMap({ Int($0) }),
                  let reporter = values["user_id"].flatMap({ Int($0) }) else { return [] }
            let partition = keys.layout.partition(ofUser: reporter)
            var rowWrites = hash(keys.complaint(complaintID, reporter: reporter))
            rowWrites.append(.member(keys.complaints(partition: partition), id, id))
            for other in 0...3 where other != status {
                rowWrites.append(.notMember(keys.complaints(status: other, partition: partition), id))
            }
            rowWrites.append(.member(keys.complaints(status: status, partition: partition), id, id))
            rowWrites.append(values["is_deleted"] == "1"
                ? .notMember(keys.complaintsOfUser(reporter), id)
                : .member(keys.complaintsOfUser(reporter), id, id))
            return rowWrites
        case .admin:
            guard let name = values["name"] else { return [] }
            return hash(keys.admin(name)) + [.member(keys.admins, id, name)]
        case .askanswer:
            // Keyed by the owner: one HVALS gives the automatic reply every pair.
            guard let owner = values["user_id"].flatMap({ Int($0) }), let rowID = Int(id) else { return [] }
            return [
                .field(keys.askAnswersOfUser(owner), id, layout.json(values, version: version)),
                .string(keys.askAnswerOwner(rowID, owner: owner), String(owner)),
            ]
        case .adminAudit:
            return []
        }
    }

    /// The commands that make the row's writes.
    static func commands(for layout: RedisRowLayout, values: [String: String], version: Int64, keys: RedisKeys) -> [RedisCommand] {
        writes(for: layout, values: values, version: version, keys: keys).flatMap(\.commands)
    }

    /// The newest audit rows (`RedisKeys.adminAuditKept`), newest first, as the scripts
    /// write them into the audit list (`lua/lib/audit.lua`); the list is replaced.
    private func hydrateAudit(schema: TableSchema, progress: RowProgress?) async throws -> Int {
        let layout = RedisRowLayout.adminAudit
        guard let columns = schema.columns(of: layout.entity.table) else {
            throw PersisterError("table \(layout.entity.table) does not exist: run `persister migrate` first")
        }
        let kinds = Dictionary(columns.map { ($0.name, $0.kind) }, uniquingKeysWith: { first, _ in first })
        let list = layout.columns.map(MariaDBConnection.quoteIdentifier).joined(separator: ", ")
        let sql = "SELECT \(list) FROM `admin_audit` ORDER BY `id` DESC LIMIT \(RedisKeys.adminAuditKept)"
        let result = try await session.withConnection { try $0.query(sql) }
        var commands = [RedisCommand("DEL", keys.adminAudit)]
        var rows: [any RedisArgument] = [keys.adminAudit]
        for row in result {
            var values: [String: String] = [:]
            for (index, column) in layout.columns.enumerated() {
                if let value = row[index] { values[column] = RedisRowLayout.redisText(value, kind: kinds[column] ?? .text) }
            }
            rows.append(layout.json(values, version: nil))
            if rows.count > chunkSize {
                commands.append(RedisCommand("RPUSH", rows))
                rows = [keys.adminAudit]
            }
        }
        if rows.count > 1 { commands.append(RedisCommand("RPUSH", rows)) }
        if !dryRun {
            for reply in try await redis.pipeline(commands) { try reply.throwingOnError() }
        }
        progress?.advance(by: result.count, entity: layout.entity.rawValue)
        logger.info("hydrated", metadata: ["entity": "admin_audit", "rows": "\(result.count)"])
        return result.count
    }

    /// Sets the counter to `maximum` unless it is higher already (ids are never reused).
    private func raiseCounter(_ key: String, to maximum: Int64) async throws -> Int64 {
        let current = try await redis.send("GET", key).throwingOnError().integer ?? 0
        guard maximum > current else { return current }
        if dryRun { return maximum }
        try await redis.send("SET", key, String(maximum)).throwingOnError()
        return maximum
    }
}
