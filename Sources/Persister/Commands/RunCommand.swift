import ArgumentParser
import ChatRuntime
import Logging
import Model
import RedisClient
import ServiceLifecycle

/// `persister run`: the long-running worker. Stops cleanly (exit 0) on SIGTERM or SIGINT,
/// after writing and acknowledging the batch in hand.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Drain the Redis streams into MariaDB until SIGTERM or SIGINT."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var persister: PersisterOptions
    @OptionGroup var drain: DrainOptions

    func run() async throws {
        let settings: PersisterSettings
        let drainSettings: DrainSettings
        do {
            let environment = processEnvironment()
            settings = try PersisterSettings.resolve(common: common, persister: persister, environment: environment)
            drainSettings = try drain.resolve(environment: environment)
        } catch {
            Self.exit(configurationError: error)
        }
        Bootstrap.logging(level: settings.logLevel)
        let registry = PersisterMetrics.bootstrap(maximumBatchSize: drainSettings.batchSize * 2, batchBytes: drainSettings.batchBytes)
        var logger = Logger(label: "persister")
        logger[metadataKey: "node"] = "\(settings.common.nodeID)"

        let redis = RedisClient(configuration: settings.common.redis, logger: Logger(label: "persister.redis"))
        await RedisEvictionCheck.enforce(
            redis: redis, allowEviction: settings.common.redisAllowsEviction, executable: "persister run", logger: logger
        )
        await KeyLayoutCheck.enforce(redis: redis, keys: settings.common.keys, executable: "persister run", logger: logger)
        // Blocking reads on a connection of their own, with room for the block time.
        var readerConfiguration = settings.common.redis
        readerConfiguration.poolSize = 1
        readerConfiguration.commandTimeout = settings.common.redis.commandTimeout
            + .milliseconds(max(drainSettings.poll, drainSettings.entryRetryDelay).milliseconds)
        let reader = RedisClient(configuration: readerConfiguration, logger: Logger(label: "persister.redis.reader"))

        let metrics = PersisterMetrics()
        // LOAD DATA LOCAL INFILE on the writing connections only, served from memory (BatchWriter).
        var writing = settings.mariaDB
        writing.localData = true
        let session = MariaDBSession(configuration: writing, logger: logger) { connection in
            try BatchWriter.prepare(connection)
        }
        // Connects on its first batch: only a backlog uses it.
        let secondSession = MariaDBSession(configuration: writing, logger: logger, threadName: "mariadb-2") { connection in
            try BatchWriter.prepare(connection)
        }
        let consumer = StreamConsumer(
            group: StreamName.persisterGroup, consumer: settings.common.nodeID, reader: reader, redis: redis,
            keys: settings.common.keys, logger: logger
        )
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: DrainService(
                settings: drainSettings, session: session, secondSession: secondSession, consumer: consumer, metrics: metrics, logger: logger)),
            .init(service: StreamMaintenance(
                settings: drainSettings, redis: redis, group: StreamName.persisterGroup, consumer: consumer, metrics: metrics,
                logger: Logger(label: "persister.streams")
            )),
        ]
        if drainSettings.metricsPort > 0 {
            services.append(.init(service: MetricsListener.service(
                host: drainSettings.metricsHost, port: drainSettings.metricsPort, registry: registry, serverName: "persister",
                health: #"{"persister":"ok"}"#, logger: Logger(label: "persister.http")
            )))
        }
        let group = ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
        await session.disconnect()
        await secondSession.disconnect()
        await reader.shutdown()
        await redis.shutdown()
    }
}
