import ArgumentParser
import ChatRuntime
import Logging
import ServiceLifecycle

/// `persister run`: the long-running worker. Stops cleanly (exit 0) on SIGTERM or SIGINT.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Drain the Redis streams into MariaDB until SIGTERM or SIGINT."
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
        var logger = Logger(label: "persister")
        logger[metadataKey: "node"] = "\(settings.common.nodeID)"

        let session = MariaDBSession(configuration: settings.mariaDB, logger: logger)
        let service = PersisterService(session: session, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [service],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }
}
