import MariaDB
@testable import Persister
import RedisClient
import Testing
import TestSupport

@Suite("MariaDB session", .offCooperativePool)
struct MariaDBSessionTests {
    @Test func theSessionConnectsOnItsOwnThread() async throws {
        try await MariaDBTestDatabase.with(prefix: "session", create: false) { database in
            _ = try Migrator(logger: MariaDBTestDatabase.logger).migrate(database: database.name, on: try database.connectToServer())
            let session = MariaDBSession(configuration: database.configuration, logger: MariaDBTestDatabase.logger)
            try await session.connect(retrying: Backoff(initial: .milliseconds(10), maximum: .milliseconds(50)))
            #expect(await session.isConnected)
            let version = try await session.withConnection { try Migrator.appliedVersions(on: $0).max() }
            #expect(version == SchemaMigrations.all.count)
            // Blocking calls run on the session's own thread, not in the cooperative pool.
            #expect(await session.runsOnDedicatedThread)
        }
    }

    @Test func connectKeepsRetryingWhileTheServerIsDownUntilCancelled() async throws {
        // Port 1 on loopback: every attempt is refused at once.
        let session = MariaDBSession(
            configuration: MariaDBConfiguration(endpoint: .tcp(host: "127.0.0.1", port: 1), username: "root"),
            logger: MariaDBTestDatabase.logger
        )
        let connecting = Task {
            try await session.connect(retrying: Backoff(initial: .milliseconds(5), maximum: .milliseconds(20)))
        }
        try await Task.sleep(for: .milliseconds(300))
        connecting.cancel()
        await #expect(throws: CancellationError.self) { try await connecting.value }
        #expect(await !session.isConnected)
    }

    @Test func aLostConnectionIsReplacedOnTheNextCall() async throws {
        try await MariaDBTestDatabase.with(prefix: "relost") { database in
            let session = MariaDBSession(configuration: database.configuration, logger: MariaDBTestDatabase.logger)
            let first = try await session.withConnection { try $0.query("SELECT CONNECTION_ID()").first?[0] ?? "" }
            try database.connectToServer().execute("KILL CONNECTION \(first)")
            await #expect(throws: MariaDBError.self) {
                try await session.withConnection { try $0.query("SELECT 1").count }
            }
            #expect(await !session.isConnected)
            let second = try await session.withConnection { try $0.query("SELECT CONNECTION_ID()").first?[0] ?? "" }
            #expect(second != first)
        }
    }
}
