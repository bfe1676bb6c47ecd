import ArgumentParser
import ChatRuntime
import Logging

/// `persister migrate`: creates the database if needed and applies the migrations it
/// has not seen yet. Safe to run any number of times, also by several processes at once.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create the MariaDB database and bring its tables to the newest schema version, then exit."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var persister: PersisterOptions

    func run() async throws {
        let settings: PersisterSettings
        do {
            settings = try PersisterSettings.resolve(common: common, persister: persister, environment: processEnvironment())
        } catch {
            Self.exit(configurationError: error)
        }
        Bootstrap.logging(level: settings.logLevel)
        let logger = Logger(label: "persister.migrate")

        // Without a database: it may not exist yet, and the migrator creates it.
        let session = MariaDBSession(configuration: settings.mariaDBServer, logger: logger)
        let migrator = Migrator(logger: logger)
        let database = settings.database
        do {
            let report = try await session.withConnection { connection in
                try migrator.migrate(database: database, on: connection)
            }
            print(report.summary)
        } catch {
            writeStandardError("persister migrate: database \(database) at \(settings.mariaDBServer.endpoint): \(error)\n")
            throw ExitCode.failure
        }
    }
}
