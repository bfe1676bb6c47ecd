import ChatRuntime
import Foundation
import Model
import RedisClient
import Testing
import TestSupport

@testable import Console

/// `console serve`'s options: defaults, environment fallbacks, refusals.
@Suite struct ConsoleOptionsTests {
    @Test("defaults: 127.0.0.1:7003, metrics on 7005, 30 min idle, 12 h, no Secure, 5/20 failures, 60 s lock")
    func defaults() throws {
        let settings = try ConsoleOptions.parse([]).resolve(environment: [:])
        #expect(settings.host == "127.0.0.1" && settings.port == 7003 && settings.metricsPort == 7005)
        #expect(settings.sessionIdleSeconds == 1800 && settings.sessionMaxSeconds == 43_200)
        #expect(!settings.cookieSecure)
        #expect(settings.login.accountLimit == 5 && settings.login.addressLimit == 20)
        #expect(settings.login.lockoutMilliseconds == 60_000 && settings.login.maxLockoutMilliseconds == 3_600_000)
        #expect(settings.deadAfterMilliseconds == 15_000)
    }

    @Test("the environment is the fallback, a flag wins")
    func environment() throws {
        let environment = ["CONSOLE_PORT": "7100", "CONSOLE_COOKIE_SECURE": "true", "CONSOLE_LOGIN_FAILURES_PER_ACCOUNT": "3"]
        let settings = try ConsoleOptions.parse(["--port", "7200"]).resolve(environment: environment)
        #expect(settings.port == 7200)
        #expect(settings.cookieSecure)
        #expect(settings.login.accountLimit == 3)
    }

    @Test("a bad value names its flag and variable")
    func refusals() throws {
        #expect(throws: ConfigurationError.self) { try ConsoleOptions.parse(["--port", "0"]).resolve(environment: [:]) }
        #expect(throws: ConfigurationError.self) {
            try ConsoleOptions.parse(["--login-lockout-seconds", "600", "--login-lockout-max-seconds", "60"]).resolve(environment: [:])
        }
        do {
            _ = try ConsoleOptions.parse([]).resolve(environment: ["CONSOLE_SESSION_IDLE_SECONDS": "abc"])
            Issue.record("accepted a bad idle timeout")
        } catch {
            #expect("\(error)".contains("--session-idle-seconds") && "\(error)".contains("CONSOLE_SESSION_IDLE_SECONDS"))
        }
    }

    @Test("console admin hashes with --bcrypt-cost / BCRYPT_COST as serve does; a cost out of 4–15 stops it naming the option")
    func adminBcryptCost() async throws {
        let url = try TestEnvironment.redisURL()
        let redis = RedisClient(configuration: try RedisConfiguration.forTests(url: url))
        defer { Task { await redis.shutdown() } }
        let name = "cost-\(UUID().uuidString.prefix(8).lowercased())"
        let created = try Executables.run("console", arguments: ["admin", "create", name], environment: ["REDIS_URL": url, "BCRYPT_COST": "5"])
        #expect(created.status == 0, "\(created.output)")
        let hash = try #require(try await redis.send("HGET", testKeys.admin(name), "password").string)
        #expect(hash.hasPrefix("$2") && hash.dropFirst(3).hasPrefix("$05$"), "\(hash)")
        let reset = try Executables.run("console", arguments: ["admin", "reset", name, "--bcrypt-cost", "4"], environment: ["REDIS_URL": url])
        #expect(reset.status == 0, "\(reset.output)")
        #expect(try await redis.send("HGET", testKeys.admin(name), "password").string?.dropFirst(3).hasPrefix("$04$") == true)
        let refused = try Executables.run("console", arguments: ["admin", "create", name + "x"], environment: ["REDIS_URL": url, "BCRYPT_COST": "3"])
        #expect(refused.status == 64 && refused.output.contains("--bcrypt-cost (BCRYPT_COST)"), "\(refused.output)")
        #expect(try await redis.send("EXISTS", testKeys.admin(name + "x")).integer == 0)
    }
}
