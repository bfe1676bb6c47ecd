import RedisClient
import ServiceLifecycle

/// Ties the Redis client's life to the service group: closed once the listeners are down.
struct RedisClientService: Service {
    let client: RedisClient

    func run() async throws {
        try? await gracefulShutdown()
        await client.shutdown()
    }
}
