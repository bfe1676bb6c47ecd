import NIOCore
import NIOPosix
import RedisClient
import TestSupport
import Testing

@Suite("Tasks on the pool's event loops")
struct EventLoopTaskExecutorTests {
    @Test("a task preferring an event loop runs there before and after awaiting replies", .timeLimit(.minutes(1)))
    func staysOnItsLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var configuration = try RedisConfiguration(url: TestEnvironment.redisURL())
        configuration.poolSize = 4
        let redis = RedisClient(configuration: configuration, eventLoopGroup: group)
        let loop = group.next()
        let onLoop = try await Task(executorPreference: EventLoopTaskExecutor(loop)) {
            var checks = [loop.inEventLoop]
            for index in 0..<100 {
                let reply = try await redis.send("ECHO", "\(index)")
                checks.append(reply == .bulk(Array("\(index)".utf8)) && loop.inEventLoop)
            }
            let replies = try await redis.pipeline([RedisCommand("PING"), RedisCommand("PING")])
            checks.append(replies == [.status("PONG"), .status("PONG")] && loop.inEventLoop)
            return checks
        }.value
        #expect(onLoop.allSatisfy { $0 })
        #expect(onLoop.count == 102)
        await redis.shutdown()
        try await group.shutdownGracefully()
    }
}
