import Logging
import Model
import RedisClient

/// Refuses to start beside processes that name keys another way: two layouts on one Redis
/// would each see half the data (docs/operations.md, *Redis Cluster*). The first process
/// records its layout in `chat:meta` (HSETNX); every later one compares.
public enum KeyLayoutCheck {
    public enum Outcome: Sendable, Equatable {
        case agrees
        /// `chat:meta` records another layout.
        case differs(recorded: String)
    }

    /// `plain` or the partition count, as `chat:meta` keeps it.
    public static func recordedValue(of layout: KeyLayout) -> String {
        layout.isTagged ? String(layout.partitions) : "plain"
    }

    /// Records the layout unless one is recorded, and compares; nil when Redis cannot be reached.
    public static func read(redis: RedisClient, keys: RedisKeys) async -> Outcome? {
        let mine = recordedValue(of: keys.layout)
        do {
            _ = try await redis.send("HSETNX", RedisKeys.meta, "partitions", mine)
            let recorded = try await redis.send("HGET", RedisKeys.meta, "partitions")
            guard let value = recorded.string else { return nil }
            return value == mine ? .agrees : .differs(recorded: value)
        } catch {
            return nil
        }
    }

    /// Returns when the layouts agree; else writes why to standard error and exits with
    /// status 78 (EX_CONFIG). A Redis that cannot be reached yet is checked in the
    /// background until it answers, like ``RedisEvictionCheck``.
    public static func enforce(redis: RedisClient, keys: RedisKeys, executable: String, logger: Logger) async {
        if let outcome = await read(redis: redis, keys: keys) {
            verdict(outcome, keys: keys, executable: executable)
            return
        }
        logger.warning("Redis cannot be reached: the key layout is checked once it answers")
        Task.detached {
            while true {
                try? await Task.sleep(for: .milliseconds(500))
                if let outcome = await read(redis: redis, keys: keys) {
                    verdict(outcome, keys: keys, executable: executable)
                    return
                }
            }
        }
    }

    private static func verdict(_ outcome: Outcome, keys: RedisKeys, executable: String) {
        guard case .differs(let recorded) = outcome else { return }
        writeStandardError("\(executable): this Redis holds keys in the layout '\(recorded)' (chat:meta partitions) and this process was started with '\(recordedValue(of: keys.layout))' (--redis-partitions, env REDIS_PARTITIONS). Start it with the deployment's value; changing the layout means rebuilding Redis from MariaDB (docs/operations.md).\n")
        terminate(78)
    }
}
