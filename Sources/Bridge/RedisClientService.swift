import RedisClient
import ServiceLifecycle

/// Ties the Redis client's life to the service group: it is closed after the services
/// started after it (the HTTP server) have stopped.
struct RedisClientService: Service {
    let client: RedisClient

    func run() async throws {
        try? await gracefulShutdown()
        await client.shutdown()
    }
}

