import Hummingbird
import Logging
import Prometheus
import RedisClient

/// Builds the bridge's HTTP application: routes and middleware as small values.
enum BridgeApplication {
    typealias Context = BasicRequestContext

    static func make(
        settings: BridgeSettings, redis: RedisClient, metrics: PrometheusCollectorRegistry, logger: Logger
    ) -> some ApplicationProtocol {
        Application(
            router: router(redis: redis, metrics: metrics),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "chat-bridge"),
            logger: logger
        )
    }

    static func router(redis: RedisClient, metrics: PrometheusCollectorRegistry) -> Router<Context> {
        let router = Router(context: Context.self)
        HealthRoutes(redis: redis).register(on: router)
        MetricsRoutes(registry: metrics).register(on: router)
        return router
    }
}
