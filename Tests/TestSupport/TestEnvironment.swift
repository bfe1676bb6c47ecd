import Foundation

/// Where the real servers of a test run are. `make test` starts them and passes their
/// addresses; a test that needs one fails (never skips) when it is not there.
public enum TestEnvironment {
    public struct Missing: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// `REDIS_URL` of the throwaway Redis started by `make test`.
    public static func redisURL() throws -> String {
        try variable("REDIS_URL", purpose: "a throwaway redis-server (run the tests with `make test`)")
    }

    /// `MARIADB_URL` of the throwaway MariaDB started by `make test`.
    public static func mariaDBURL() throws -> String {
        try variable("MARIADB_URL", purpose: "a throwaway mariadbd (run the tests with `make test`)")
    }

    /// The redis-server binary, for tests that start, stop and pause their own server.
    public static func redisServerBinary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["REDIS_SERVER_BIN"], !path.isEmpty { return path }
        for candidate in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw Missing(description: "redis-server not found: install it (make test does) or set REDIS_SERVER_BIN")
    }

    private static func variable(_ name: String, purpose: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw Missing(description: "\(name) is not set: this test needs \(purpose)")
        }
        return value
    }
}
