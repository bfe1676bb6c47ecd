import Logging
import MariaDB
import ServiceLifecycle

/// The long-running part of `persister run`: reaches MariaDB (waiting for it as long as
/// it takes), reports ready, and stays up until the graceful shutdown.
///
/// Draining the Redis streams will live here too; for now the service only holds the
/// connection.
struct PersisterService: Service {
    let session: MariaDBSession
    var backoff = ReconnectBackoff()
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { [session, backoff] in
                try await session.connect(retrying: backoff)
            }
        } catch is CancellationError {
            logger.notice("stopping before MariaDB could be reached")
            return
        }
        let schemaVersion = await schemaVersion()
        logger.info("persister ready", metadata: [
            "mariadb": "\(session.configuration)",
            "schema_version": "\(schemaVersion.map(String.init) ?? "none: run `persister migrate`")",
        ])

        // Throws CancellationError if the group cancels us instead; stopping is all
        // that is left to do either way.
        try? await gracefulShutdown()
        logger.info("persister stopping")
        await session.disconnect()
    }

    /// The newest migration recorded in the database, nil without `schema_migrations`.
    private func schemaVersion() async -> Int? {
        do {
            return try await session.withConnection { connection in
                try Migrator.appliedVersions(on: connection).max()
            }
        } catch {
            logger.debug("cannot read the schema version", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
