import ArgumentParser
import ChatRuntime
import Logging
import RedisClient

/// `persister hydrate`: rebuilds the Redis entity state from MariaDB, then exits.
struct HydrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hydrate",
        abstract: "Rebuild the Redis entity state (users, profiles, friends, requests, groups, members, blocks, complaints, Q&A, console accounts, indexes, id counters) from MariaDB, then exit. Refuses while a bridge is alive (exit 3)."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var persister: PersisterOptions
    @OptionGroup var bridges: BridgeGuardOptions

    @Flag(name: .customLong("dry-run"), help: "Read and count every row, write nothing to Redis.")
    var dryRun = false

    func run() async throws {
        let tool = OneShotSession.start("hydrate", common: common, persister: persister)
        let deadAfter: Int64
        do {
            deadAfter = try bridges.deadAfterMilliseconds(environment: processEnvironment())
        } catch {
            Self.exit(configurationError: error)
        }
        let logger = tool.logger
        let report = try await tool.run("hydrate") { session, redis in
            if !dryRun {
                await RedisEvictionCheck.enforce(
                    redis: redis, allowEviction: tool.settings.common.redisAllowsEviction, executable: "persister hydrate", logger: logger
                )
                await KeyLayoutCheck.enforce(redis: redis, keys: tool.settings.common.keys, executable: "persister hydrate", logger: logger)
            }
            try await bridges.check(redis: redis, keys: tool.settings.common.keys, deadAfterMilliseconds: deadAfter, command: "hydrate", warnOnly: dryRun, logger: logger)
            var hydrator = Hydrator(session: session, redis: redis, logger: logger)
            hydrator.keys = tool.settings.common.keys
            hydrator.dryRun = dryRun
            return try await hydrator.run()
        }
        print(report.description)
    }
}
