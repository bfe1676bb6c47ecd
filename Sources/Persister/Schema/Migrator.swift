import Logging
import MariaDB

/// Brings a database to the newest schema: creates it if needed, then applies, in
/// order, the migrations that `schema_migrations` does not list yet.
///
/// Blocking, like the connection it is given.
struct Migrator: Sendable {
    var migrations: [Migration] = SchemaMigrations.all
    /// How long to wait for another `migrate` of the same database to finish.
    var lockTimeout: Duration = .seconds(60)
    /// Run after the migrations, every time: columns narrower than `StoredLimits` widened.
    var widening = ColumnWidening()
    let logger: Logger

    init(migrations: [Migration] = SchemaMigrations.all, logger: Logger) {
        self.migrations = migrations
        self.logger = logger
    }

    /// `connection` may have any default database (or none); it ends with `database`.
    func migrate(database: String, on connection: MariaDBConnection) throws -> MigrationReport {
        try MariaDBConfiguration.validateDatabaseName(database)
        try connection.execute("""
            CREATE DATABASE IF NOT EXISTS \(MariaDBConnection.quoteIdentifier(database)) \
            CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci
            """)
        try connection.selectDatabase(database)

        // Two processes migrating at once (two replicas starting together) would both
        // apply the same migration; a named lock lets one wait for the other. The lock
        // is released with the connection if we never get to release it.
        let lockName = "CONCAT('migrate:', SHA1(\(try connection.quote(database))))"
        let waitSeconds = max(1, lockTimeout.components.seconds)
        let acquired = try connection.query("SELECT GET_LOCK(\(lockName), \(waitSeconds))").first?[0]
        guard acquired == "1" else { throw MigrationError.lockTimeout(database: database, waited: lockTimeout) }
        defer {
            do {
                try connection.execute("DO RELEASE_LOCK(\(lockName))")
            } catch {
                logger.warning("could not release the migration lock", metadata: ["error": "\(error)"])
            }
        }

        try connection.execute(SchemaMigrations.createBookkeepingTable)
        var recorded = try Self.appliedVersions(on: connection)

        var applied: [Migration] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) where !recorded.contains(migration.version) {
            logger.info("applying migration", metadata: [
                "database": "\(database)", "version": "\(migration.version)", "name": "\(migration.name)",
            ])
            for statement in migration.statements {
                try connection.execute(statement)
            }
            try connection.execute("""
                INSERT INTO `schema_migrations` (`version`, `name`) \
                VALUES (\(migration.version), \(try connection.quote(migration.name)))
                """)
            recorded.insert(migration.version)
            applied.append(migration)
        }

        let widened = try widening.apply(on: connection)
        for column in widened {
            logger.info("widened a column to the limits table", metadata: ["database": "\(database)", "column": "\(column)"])
        }

        let known = Set(migrations.map(\.version))
        let unknown = recorded.subtracting(known).sorted()
        if !unknown.isEmpty {
            logger.warning("the database has migrations this program does not know; it may be older than the schema", metadata: [
                "database": "\(database)", "versions": "\(unknown)",
            ])
        }
        let report = MigrationReport(
            database: database, applied: applied, schemaVersion: recorded.max() ?? 0, unknownVersions: unknown,
            widened: widened
        )
        logger.info("migration finished", metadata: ["database": "\(database)", "schema_version": "\(report.schemaVersion)", "applied": "\(applied.count)"])
        return report
    }

    /// The versions recorded in the current database's `schema_migrations`.
    static func appliedVersions(on connection: MariaDBConnection) throws -> Set<Int> {
        var versions = Set<Int>()
        for row in try connection.query("SELECT `version` FROM `schema_migrations`") {
            let text = row[0] ?? "NULL"
            guard let version = Int(text) else { throw MigrationError.unreadableVersion(text) }
            versions.insert(version)
        }
        return versions
    }
}
