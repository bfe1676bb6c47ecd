import RedisClient

extension RedisConfiguration {
    /// A test's client (and an in-process bridge's): as `init(url:)`, with a 10 s command
    /// timeout instead of 2 s. Beside the whole suite's processes on two cores a reply was
    /// seen to take longer than 2 s; the tests that assert timeouts set their own.
    public static func forTests(url: String) throws -> RedisConfiguration {
        var configuration = try RedisConfiguration(url: url)
        configuration.commandTimeout = .seconds(10)
        return configuration
    }
}
