import RedisClient
import ServiceLifecycle

/// Ties a Redis client's life to the service group: it is closed after the services
/// started after it (the HTTP servers) have stopped. The bridge's and the console's.
public struct RedisClientService: Service {
    public let client: RedisClient

    public init(client: RedisClient) {
        self.client = client
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await client.shutdown()
    }
}
