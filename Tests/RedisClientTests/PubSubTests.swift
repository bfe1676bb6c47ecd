import NIOCore
import RedisClient
import TestSupport
import Testing

/// Pub/sub against one Redis. On the run's Redis Cluster the subscriber refuses (nothing in
/// the system subscribes there: delivery between bridges is per-node streams), so the
/// subscribing tests then use a redis-server of their own.
@Suite("Pub/sub on dedicated connections")
struct PubSubTests {
    /// The run's Redis when it is one server; else (a cluster run) a server of the test's
    /// own, kept alive by the returned process.
    static func singleRedis() throws -> (url: String, server: RedisServerProcess?) {
        let url = try TestEnvironment.redisURL()
        guard url.hasPrefix("redis-cluster://") else { return (url, nil) }
        let server = try RedisServerProcess()
        return (server.url, server)
    }

    @Test("a redis-cluster:// configuration is refused with its reason, the run's cluster too: nothing uses pub/sub on a cluster (delivery between bridges is per-node streams)")
    func refusedOnCluster() throws {
        let run = try TestEnvironment.redisURL()
        for url in ["redis-cluster://127.0.0.1:7000,127.0.0.1:7001"] + (run.hasPrefix("redis-cluster://") ? [run] : []) {
            let configuration = try RedisConfiguration(url: url)
            #expect(throws: RedisError.notOnCluster(
                "RedisSubscriber talks to one Redis; on a cluster nothing uses pub/sub (delivery between bridge processes uses per-node streams)"
            )) {
                _ = try RedisSubscriber(configuration: configuration)
            }
        }
        #expect(RedisError.notOnCluster("x").description == "not on a Redis Cluster: x")
    }

    @Test("subscribe, psubscribe and unsubscribe", .timeLimit(.minutes(1)))
    func subscribeAndUnsubscribe() async throws {
        let (url, server) = try Self.singleRedis()
        let configuration = try RedisConfiguration(url: url)
        let redis = RedisClient(configuration: configuration)
        let subscriber = try RedisSubscriber(configuration: configuration)
        defer { withExtendedLifetime(server) {} }
        defer { Task { await subscriber.shutdown(); await redis.shutdown() } }
        let prefix = uniquePrefix()

        let direct = try await subscriber.subscribe(to: [prefix + "a"])
        let pattern = try await subscriber.psubscribe(to: [prefix + "*"])
        let payload: [UInt8] = [0, 1, 0xFF, 0x0A]
        #expect(try await redis.send("PUBLISH", prefix + "a", payload) == .integer(2))

        var directIterator = direct.makeAsyncIterator()
        var patternIterator = pattern.makeAsyncIterator()
        #expect(await directIterator.next() == RedisPubSubMessage(channel: prefix + "a", pattern: nil, payload: payload))
        #expect(await patternIterator.next() == RedisPubSubMessage(channel: prefix + "a", pattern: prefix + "*", payload: payload))

        direct.unsubscribe()
        #expect(await directIterator.next() == nil)
        try await eventually(within: 3) { try await redis.send("PUBLISH", prefix + "a", "x") == .integer(1) }
        #expect(await patternIterator.next()?.text == "x")
        pattern.unsubscribe()
        try await eventually(within: 3) { try await redis.send("PUBLISH", prefix + "b", "y") == .integer(0) }
    }

    @Test("two subscriptions to one channel both receive; one ending keeps the other", .timeLimit(.minutes(1)))
    func sharedChannel() async throws {
        let (url, server) = try Self.singleRedis()
        let configuration = try RedisConfiguration(url: url)
        let redis = RedisClient(configuration: configuration)
        let subscriber = try RedisSubscriber(configuration: configuration)
        defer { withExtendedLifetime(server) {} }
        defer { Task { await subscriber.shutdown(); await redis.shutdown() } }
        let channel = uniquePrefix() + "shared"
        let first = try await subscriber.subscribe(to: [channel])
        let second = try await subscriber.subscribe(to: [channel])
        #expect(try await redis.send("PUBLISH", channel, "one") == .integer(1))
        var firstIterator = first.makeAsyncIterator()
        var secondIterator = second.makeAsyncIterator()
        #expect(await firstIterator.next()?.text == "one")
        #expect(await secondIterator.next()?.text == "one")
        first.unsubscribe()
        #expect(try await redis.send("PUBLISH", channel, "two") == .integer(1))
        #expect(await secondIterator.next()?.text == "two")
    }

    @Test("still delivering after Redis restarts", .timeLimit(.minutes(1)))
    func resubscribesAfterRestart() async throws {
        let server = try RedisServerProcess()
        var configuration = try RedisConfiguration(url: server.url)
        // Short enough to retry quickly while the server is down, long enough for a
        // subscription to be confirmed on a machine busy with the other suites.
        configuration.commandTimeout = .seconds(2)
        configuration.reconnectBackoff = .milliseconds(5) ... .milliseconds(100)
        let redis = RedisClient(configuration: configuration)
        let subscriber = try RedisSubscriber(configuration: configuration)
        defer { Task { await subscriber.shutdown(); await redis.shutdown() } }

        let messages = try await subscriber.subscribe(to: ["news"])
        let pattern = try await subscriber.psubscribe(to: ["n*"])
        #expect(try await redis.send("PUBLISH", "news", "before") == .integer(2))
        var iterator = messages.makeAsyncIterator()
        var patternIterator = pattern.makeAsyncIterator()
        #expect(await iterator.next()?.text == "before")
        #expect(await patternIterator.next()?.text == "before")
        #expect(await subscriber.isConnected)

        try server.restart()
        // Publish until both subscriptions are back (the subscriber reconnects by itself).
        try await eventually(within: 10) { try await redis.send("PUBLISH", "news", "after") == .integer(2) }
        #expect(await iterator.next()?.text == "after")
        #expect(await patternIterator.next()?.text == "after")
    }
}
