import ArgumentParser
import ChatRuntime
import Logging
import RedisClient

/// What the one-shot commands (`hydrate`, `verify`, `import-askanswers`) share: the
/// settings, logging, a Redis client and a MariaDB session, closed whatever happens, and
/// an error printed as `persister NAME: …` with exit status 1 (unless told otherwise).
struct OneShotSession {
    let settings: PersisterSettings
    let logger: Logger

    /// Resolves the settings (a bad one exits with the usage status) and starts logging.
    static func start(_ name: String, common: CommonOptions, persister: PersisterOptions) -> OneShotSession {
        let settings: PersisterSettings
        do {
            settings = try PersisterSettings.resolve(common: common, persister: persister, environment: processEnvironment())
        } catch {
            PersisterCommand.exit(configurationError: error)
        }
        Bootstrap.logging(level: settings.logLevel)
        return OneShotSession(settings: settings, logger: Logger(label: "persister.\(name)"))
    }

    /// Runs `body`; an error is printed and exits with `failureStatus`.
    func run<Result: Sendable>(
        _ name: String, failureStatus: Int32 = 1, body: (MariaDBSession, RedisClient) async throws -> Result
    ) async throws -> Result {
        let redis = RedisClient(configuration: settings.common.redis, logger: Logger(label: "persister.redis"))
        let session = MariaDBSession(configuration: settings.mariaDB, logger: logger)
        let outcome: Swift.Result<Result, any Error>
        do {
            outcome = .success(try await body(session, redis))
        } catch {
            outcome = .failure(error)
        }
        await session.disconnect()
        await redis.shutdown()
        switch outcome {
        case .success(let result):
            return result
        case .failure(let error as ExitCode):
            throw error
        case .failure(let error):
            writeStandardError("persister \(name): \(error)\n")
            throw ExitCode(failureStatus)
        }
    }
}
