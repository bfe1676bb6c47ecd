import Foundation
import NIOCore
import RedisClient
import TestSupport

/// A client of the shared test Redis (`REDIS_URL`), each test in its own key space.
func sharedClient(poolSize: Int = 2, timeout: TimeAmount = .seconds(5)) throws -> RedisClient {
    var configuration = try RedisConfiguration(url: TestEnvironment.redisURL())
    configuration.poolSize = poolSize
    configuration.commandTimeout = timeout
    return RedisClient(configuration: configuration)
}

func client(
    of server: RedisServerProcess, poolSize: Int = 2, timeout: TimeAmount = .milliseconds(500)
) throws -> RedisClient {
    var configuration = try RedisConfiguration(url: server.url)
    configuration.poolSize = poolSize
    configuration.commandTimeout = timeout
    configuration.reconnectBackoff = .milliseconds(5) ... .milliseconds(100)
    return RedisClient(configuration: configuration)
}

/// A unique key prefix, so tests sharing one Redis never see each other's keys.
func uniquePrefix(_ test: String = #function) -> String {
    "test:\(test.prefix { $0 != "(" }):\(UUID().uuidString.prefix(8)):"
}
