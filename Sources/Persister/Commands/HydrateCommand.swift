import ArgumentParser
import ChatRuntime
import Logging
import RedisClient

/// `persister hydrate`: rebuilds the Redis entity state from MariaDB, then exits.
struct HydrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hydrate",
        abstract: "Rebuild the Redis entity state (users, profiles, friends, requests, groups, members, id counters) from MariaDB, then exit. Stop the bridges first."
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
        let logger = Logger(label: "persister.hydrate")
        let redis = RedisClient(configuration: settings.common.redis, logger: Logger(label: "persister.redis"))
        await RedisEvictionCheck.enforce(
            redis: redis, allowEviction: settings.common.redisAllowsEviction, executable: "persister hydrate", logger: logger
        )
        let session = MariaDBSession(configuration: settings.mariaDB, logger: logger)
        let hydrator = Hydrator(session: session, redis: redis, logger: logger)
        let outcome: Result<Hydrator.Report, any Error>
        do {
            outcome = .success(try await hydrator.run())
        } catch {
            outcome = .failure(error)
        }
        await session.disconnect()
        await redis.shutdown()
        switch outcome {
        case .success(let report):
            print(report.description)
        case .failure(let error):
            writeStandardError("persister hydrate: \(error)\n")
            throw ExitCode.failure
        }
    }
}
