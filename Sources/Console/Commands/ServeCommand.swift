import ArgumentParser
import ChatRuntime
import Hummingbird
import Logging
import RedisClient
import ServiceLifecycle

/// `console serve` (the default): the console's listener, its /metrics listener and its
/// Redis client, owned by one service group.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the console's pages and JSON API (docs/console.md)."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var options: ConsoleOptions

    func run() async throws {
        let environment = processEnvironment()
        let commonSettings: CommonSettings
        let settings: ConsoleSettings
        do {
            commonSettings = try common.resolve(environment: environment)
            settings = try options.resolve(environment: environment)
        } catch {
            ConsoleCommand.exit(configurationError: error)
        }
        Bootstrap.logging(level: commonSettings.logLevel)
        let metrics = Bootstrap.prometheus()
        let logger = Logger(label: "console")
        let redis = RedisClient(configuration: commonSettings.redis, logger: Logger(label: "console.redis"))
        // Sessions, lockouts and the audit list must not be evicted, as the bridge's state.
        await RedisEvictionCheck.enforce(
            redis: redis, allowEviction: commonSettings.redisAllowsEviction, executable: "console", logger: logger
        )
        await KeyLayoutCheck.enforce(redis: redis, keys: commonSettings.keys, executable: "console", logger: logger)
        let dependencies = ConsoleDependencies(settings: settings, keys: commonSettings.keys, redis: redis)
        // Reverse order at shutdown: the listeners stop first, then Redis closes.
        var services: [any Service] = [RedisClientService(client: redis)]
        if settings.metricsPort > 0 {
            services.append(MetricsListener.service(
                host: settings.metricsHost, port: settings.metricsPort, registry: metrics, serverName: "chat-console-metrics",
                health: #"{"console":"ok"}"#, logger: Logger(label: "console.metrics")
            ))
        }
        services.append(ConsoleApplication.make(settings: settings, dependencies: dependencies, logger: logger))
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }
}
