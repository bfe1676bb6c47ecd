import ArgumentParser
import ChatAPI
import ChatGateway
import ChatRuntime
import Hummingbird
import Logging
import Model
import NIOCore
import RedisClient
import ServiceLifecycle

@main
struct BridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridge",
        abstract: "The chat bridge: HTTP API and WebSocket gateway, with all state in Redis."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var options: BridgeOptions
    @OptionGroup var replicaWait: ReplicaWaitOptions

    func run() async throws {
        let environment = processEnvironment()
        let commonSettings: CommonSettings
        let settings: BridgeSettings
        do {
            commonSettings = try common.resolve(environment: environment)
            var resolved = try options.resolve(environment: environment)
            resolved.messages.replicaAcknowledgement = try replicaWait.resolve(environment: environment)
            settings = resolved
        } catch {
            Self.exit(configurationError: error)
        }

        // Before anything uses NIO's shared event loop group (Hummingbird, the Redis client).
        NIOSingletons.groupLoopCountSuggestion = settings.eventLoops
            ?? EventLoopCount.default(redis: commonSettings.redis.endpoint, cores: System.coreCount)
        Bootstrap.logging(level: commonSettings.logLevel)
        let metrics = Bootstrap.prometheus()
        var logger = Logger(label: "bridge")
        logger[metadataKey: "node"] = "\(commonSettings.nodeID)"
        if case .generated = settings.jwtSecret {
            logger.warning("JWT_SECRET is not set: tokens are signed with a random secret and die with this process")
        }

        let redis = RedisClient(configuration: commonSettings.redis, logger: Logger(label: "bridge.redis"))
        await RedisEvictionCheck.enforce(
            redis: redis, allowEviction: commonSettings.redisAllowsEviction, executable: Self._commandName, logger: logger
        )
        await KeyLayoutCheck.enforce(redis: redis, keys: commonSettings.keys, executable: Self._commandName, logger: logger)
        let node = commonSettings.nodeID
        // Run by the service group below, so that shutdown waits for its jobs.
        let background = BackgroundWork()
        let dependencies = await BridgeApplication.Dependencies.make(
            settings: settings, redis: redis, metrics: metrics, node: node, background: background,
            keys: commonSettings.keys, logger: logger
        )
        let heartbeat = NodeHeartbeat(delivery: dependencies.delivery, logger: Logger(label: "bridge.heartbeat"))
        // A node stream's reader blocks its connection in XREAD: a client of its own, one
        // per partition (each partition has this process's stream of its own).
        let readers = (0..<commonSettings.keys.layout.partitions).map { _ in
            RedisClient(
                configuration: NodeStreamListener.readerConfiguration(commonSettings.redis),
                logger: Logger(label: "bridge.node-stream")
            )
        }
        let listener = NodeStreamListener(
            readers: readers, delivery: dependencies.delivery, logger: Logger(label: "bridge.node-stream")
        )
        let app = BridgeApplication.make(settings: settings, dependencies: dependencies, logger: logger)
        // Shut down in reverse: the server drops its sockets, every one of them begins its
        // release (the gateway's drain), then the questions already asked get their
        // automatic answers, then this node leaves chat:nodes, then the background work
        // (the releases, redeliveries of what closed connections could not push, flushes)
        // finishes, then Redis closes.
        var services: [any Service] = [RedisClientService(client: redis)]
        services += readers.map { RedisClientService(client: $0) }
        // Finishes the operations between partitions a crash left pending (none on one Redis).
        let repairer = PendingStepRepairer(
            repairs: [
                SingleSendRepair(sender: dependencies.sender),
                GroupSendRepair(sender: dependencies.sender),
                FriendSteps(scripts: dependencies.scripts, keys: commonSettings.keys, streamCap: settings.messages.streamCap),
                GroupChangeRepair(scripts: dependencies.scripts, keys: commonSettings.keys, streamCap: settings.messages.streamCap),
            ],
            partitions: commonSettings.keys.layout.partitions,
            interval: settings.delivery.heartbeat,
            logger: Logger(label: "bridge.repair")
        )
        services += [background, heartbeat, repairer, listener, dependencies.autoReplies] as [any Service]
        // Stops right after the API server (reverse order): scrapes answer while it drains.
        if let metricsListener = BridgeApplication.metricsListener(settings: settings, dependencies: dependencies) {
            services.append(metricsListener)
        }
        services.append(GatewayDrain(connections: dependencies.delivery.connections))
        services.append(app)
        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await serviceGroup.run()
    }
}
