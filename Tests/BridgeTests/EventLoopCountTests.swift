import Foundation
import RedisClient
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// `--event-loops`: the default leaves Redis a core when it is on this machine, and a
/// bridge process runs exactly the loops it was given.
@Suite("event loop threads", .offCooperativePool)
struct EventLoopCountTests {
    @Test("the default: all cores, less one for a Redis on this machine; never below one")
    func defaults() {
        #expect(EventLoopCount.default(redis: .tcp(host: "127.0.0.1", port: 6379), cores: 2) == 1)
        #expect(EventLoopCount.default(redis: .tcp(host: "localhost", port: 6379), cores: 8) == 7)
        #expect(EventLoopCount.default(redis: .tcp(host: "::1", port: 6379), cores: 4) == 3)
        #expect(EventLoopCount.default(redis: .unixSocket(path: "/run/redis.sock"), cores: 2) == 1)
        #expect(EventLoopCount.default(redis: .tcp(host: "127.0.0.1", port: 6379), cores: 1) == 1)
        #expect(EventLoopCount.default(redis: .tcp(host: "10.0.0.5", port: 6379), cores: 2) == 2)
        #expect(EventLoopCount.default(redis: .tcp(host: "redis.internal", port: 6379), cores: 16) == 16)
    }

    @Test("flag, environment fallback, refusals")
    func option() throws {
        #expect(try BridgeOptions.parse(["--event-loops", "3"]).resolve(environment: ["BRIDGE_EVENT_LOOPS": "5"]).eventLoops == 3)
        #expect(try BridgeOptions.parse([]).resolve(environment: ["BRIDGE_EVENT_LOOPS": "5"]).eventLoops == 5)
        #expect(try BridgeOptions.parse([]).resolve(environment: [:]).eventLoops == nil)
        for bad in ["0", "257", "-1", "two", ""] {
            #expect(throws: (any Error).self) { _ = try BridgeOptions.parse(["--event-loops", bad]).resolve(environment: [:]) }
        }
    }

    @Test("a bridge process runs the loops it is given", .timeLimit(.minutes(1)))
    func processThreads() async throws {
        for loops in [1, 3] {
            let bridge = try await BridgeProcess(redisURL: try TestEnvironment.redisURL(), settings: ["BRIDGE_EVENT_LOOPS": "\(loops)"])
            #expect(try Self.eventLoopThreads(of: bridge.pid) == loops)
            _ = try bridge.register()
            #expect(try Self.eventLoopThreads(of: bridge.pid) == loops, "still \(loops) after serving a request")
        }
    }

    /// Threads of NIO's shared event loop group (`NIO-SGLTN-{group}-#{n}`).
    static func eventLoopThreads(of pid: pid_t) throws -> Int {
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        return try tasks.filter { task in
            let name = try String(contentsOfFile: "/proc/\(pid)/task/\(task)/comm", encoding: .utf8)
            return name.hasPrefix("NIO-SGLTN-")
        }.count
    }
}
