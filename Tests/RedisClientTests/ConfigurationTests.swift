import NIOCore
import RedisClient
import TestSupport
import Testing

@Suite("Redis URLs, AUTH and SELECT")
struct ConfigurationTests {
    @Test func parsesURLs() throws {
        let plain = try RedisConfiguration(url: "redis://127.0.0.1:6379/0")
        #expect(plain.endpoint == .tcp(host: "127.0.0.1", port: 6379))
        #expect(plain.database == 0 && plain.password == nil && plain.username == nil)

        let full = try RedisConfiguration(url: "redis://alice:p%40ss@redis.local:7000/5")
        #expect(full.endpoint == .tcp(host: "redis.local", port: 7000))
        #expect(full.username == "alice" && full.password == "p@ss" && full.database == 5)

        let passwordOnly = try RedisConfiguration(url: "redis://:secret@localhost")
        #expect(passwordOnly.username == nil && passwordOnly.password == "secret")
        #expect(passwordOnly.endpoint == .tcp(host: "localhost", port: 6379))

        let ipv6 = try RedisConfiguration(url: "redis://[::1]:6380/2")
        #expect(ipv6.endpoint == .tcp(host: "::1", port: 6380) && ipv6.database == 2)

        let unix = try RedisConfiguration(url: "unix:///run/redis.sock?db=3")
        #expect(unix.endpoint == .unixSocket(path: "/run/redis.sock") && unix.database == 3)
        #expect(plain.topology == .single && unix.topology == .single)
    }

    @Test func parsesClusterURLs() throws {
        let cluster = try RedisConfiguration(url: "redis-cluster://alice:p%40ss@10.0.0.1:7000,10.0.0.2,[::1]:7002")
        #expect(cluster.topology == .cluster(seeds: [
            .tcp(host: "10.0.0.1", port: 7000), .tcp(host: "10.0.0.2", port: 6379), .tcp(host: "::1", port: 7002),
        ]))
        #expect(cluster.endpoint == .tcp(host: "10.0.0.1", port: 7000))
        #expect(cluster.username == "alice" && cluster.password == "p@ss" && cluster.database == 0)

        let passwordOnly = try RedisConfiguration(url: "redis-cluster://:secret@127.0.0.1:7000/0")
        #expect(passwordOnly.username == nil && passwordOnly.password == "secret")
        #expect(passwordOnly.topology == .cluster(seeds: [.tcp(host: "127.0.0.1", port: 7000)]))

        let open = try RedisConfiguration(url: "redis-cluster://127.0.0.1:7000")
        #expect(open.username == nil && open.password == nil)
    }

    @Test(arguments: ["redis-cluster://", "redis-cluster://h:1/3", "redis-cluster://h:1,,h:2", "redis-cluster://h:0", "redis-cluster://h:1,h:x"])
    func rejectsBadClusterURLs(_ url: String) {
        #expect(throws: RedisURLError.self) { try RedisConfiguration(url: url) }
    }

    @Test(arguments: ["http://x", "redis://", "redis://h:0", "redis://h:99999", "redis://h:1/x", "unix://relative", "unix:///s?db=-1", "redis://h:port"])
    func rejectsBadURLs(_ url: String) {
        #expect(throws: RedisURLError.self) { try RedisConfiguration(url: url) }
    }

    @Test("AUTH with a password, SELECT a database", .timeLimit(.minutes(1)))
    func authAndSelect() async throws {
        let server = try RedisServerProcess(extraArguments: ["--requirepass", "s3cret"])
        var configuration = try RedisConfiguration(url: "redis://:s3cret@127.0.0.1:\(server.port)/3")
        configuration.commandTimeout = .seconds(2)
        let redis = RedisClient(configuration: configuration)
        #expect(try await redis.send("SET", "where", "db3") == .status("OK"))
        #expect(try await redis.send("CLIENT", "INFO").string?.contains("db=3") == true)
        await redis.shutdown()

        let db0 = RedisClient(configuration: try RedisConfiguration(url: "redis://:s3cret@127.0.0.1:\(server.port)/0"))
        #expect(try await db0.send("GET", "where") == .null)
        await db0.shutdown()
    }

    @Test("a wrong password fails every command with a clear error", .timeLimit(.minutes(1)))
    func wrongPassword() async throws {
        let server = try RedisServerProcess(extraArguments: ["--requirepass", "right"])
        var configuration = try RedisConfiguration(url: "redis://:wrong@127.0.0.1:\(server.port)/0")
        // Long enough for the refused handshake to have happened (the detail names it) on
        // a machine busy with the other suites.
        configuration.commandTimeout = .seconds(2)
        let redis = RedisClient(configuration: configuration)
        defer { Task { await redis.shutdown() } }
        do {
            _ = try await redis.send("PING")
            Issue.record("a command succeeded with a wrong password")
        } catch {
            guard case .timeout(_, let detail) = error else { Issue.record("unexpected \(error)"); return }
            #expect(detail.contains("handshake refused"))
        }
    }

    @Test("unix socket URL", .timeLimit(.minutes(1)))
    func unixSocket() async throws {
        let path = "/tmp/redis-test-\(UInt32.random(in: 0...UInt32.max)).sock"
        let server = try RedisServerProcess(extraArguments: ["--unixsocket", path, "--unixsocketperm", "700"])
        _ = server
        try await eventually(within: 5) { FileManager.default.fileExists(atPath: path) }
        let redis = RedisClient(configuration: try RedisConfiguration(url: "unix://\(path)?db=2"))
        #expect(try await redis.send("SET", "k", "v") == .status("OK"))
        #expect(try await redis.send("CLIENT", "INFO").string?.contains("db=2") == true)
        await redis.shutdown()
    }
}

import Foundation
