import Hummingbird
import NIOCore
import Prometheus
import RedisClient
import TestSupport

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// The bridge's router over a given Redis, with test settings (cheap bcrypt).
enum TestBridge {
    static let secret = "a-test-secret-that-is-long-enough-for-hs256"

    static func settings() -> BridgeSettings {
        var settings = BridgeSettings(host: "127.0.0.1", port: 0, jwtSecret: .configured(secret), visitorSalt: BridgeSettings.defaultVisitorSalt)
        settings.bcryptCost = 4
        // Tests send bursts from one account; the quota's own tests turn it on.
        settings.messages.sendRate = 0
        // Accounts are made in bursts; RateLimitTests bound the queue.
        settings.accountLimits.bcryptQueue = 100_000
        return settings
    }

    static func dependencies(
        redis: RedisClient, metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), settings: BridgeSettings = settings()
    ) async -> BridgeApplication.Dependencies {
        // In-process: no service group runs the background work, so jobs run on their own.
        await BridgeApplication.Dependencies.make(
            settings: settings, redis: redis, metrics: metrics, node: "test-node", background: BackgroundWork(owned: false),
            keys: testKeys
        )
    }

    static func app(
        redis: RedisClient, metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), settings: BridgeSettings = settings()
    ) async -> some ApplicationProtocol {
        Application(router: BridgeApplication.router(await dependencies(redis: redis, metrics: metrics, settings: settings)))
    }

    static func sharedRedis() throws -> RedisClient {
        RedisClient(configuration: try RedisConfiguration.forTests(url: TestEnvironment.redisURL()))
    }
}
