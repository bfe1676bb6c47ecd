import Logging
import Model
import RedisClient

/// Refuses to start beside processes that name keys another way: two layouts on one Redis
/// would each see half the data (docs/operations.md, *Redis Cluster*). The first process
/// records its layout in `chat:meta` (HSETNX): field `partitions`, and on a partitioned
/// layout field `tags`, the partitions' hash tags in order, comma-separated, so that
/// analytics name the stream shards without computing CRC16 (docs/streams.md, *Shards*).
/// Every later process compares both; one that agrees on `partitions` where `tags` is not
/// recorded yet (a deployment recorded before the field existed) records it.
public enum KeyLayoutCheck {
    public enum Outcome: Sendable, Equatable {
        case agrees
        /// `chat:meta` records another layout.
        case differs(recorded: String)
        /// The same partition count with other tags (a changed tag rule): other key names.
        case differentTags(recorded: String)
    }

    /// `plain` or the partition count, as `chat:meta` keeps it.
    public static func recordedValue(of layout: KeyLayout) -> String {
        layout.isTagged ? String(layout.partitions) : "plain"
    }

    /// The partitions' hash tags in order as `chat:meta` keeps them (`p0,p1.2,…`); nil
    /// for `plain` (no tags, no field).
    public static func recordedTags(of layout: KeyLayout) -> String? {
        guard layout.isTagged else { return nil }
        // A suffix is `{tag}`; a tag never holds a comma (`p{k}` and a base-36 attempt).
        return layout.suffixes.map { String($0.dropFirst().dropLast()) }.joined(separator: ",")
    }

    /// Records the layout unless one is recorded, and compares; nil when Redis cannot be reached.
    public static func read(redis: RedisClient, keys: RedisKeys) async -> Outcome? {
        let mine = recordedValue(of: keys.layout)
        do {
            _ = try await redis.send("HSETNX", RedisKeys.meta, "partitions", mine)
            let recorded = try await redis.send("HGET", RedisKeys.meta, "partitions")
            guard let value = recorded.string else { return nil }
            guard value == mine else { return .differs(recorded: value) }
            // Only once the counts agree: a process of another count must not record its tags.
            guard let tags = recordedTags(of: keys.layout) else { return .agrees }
            _ = try await redis.send("HSETNX", RedisKeys.meta, "tags", tags)
            guard let recordedTags = try await redis.send("HGET", RedisKeys.meta, "tags").string else { return nil }
            return recordedTags == tags ? .agrees : .differentTags(recorded: recordedTags)
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
        switch outcome {
        case .agrees:
            return
        case .differentTags(let recorded):
            writeStandardError("\(executable): this Redis holds keys tagged '\(recorded)' (chat:meta tags) and this process names them '\(recordedTags(of: keys.layout) ?? "")': another version's tag rule. Run the deployment's version; changing the tags means rebuilding Redis from MariaDB (docs/operations.md).\n")
            terminate(78)
        case .differs(let recorded):
            writeStandardError("\(executable): this Redis holds keys in the layout '\(recorded)' (chat:meta partitions) and this process was started with '\(recordedValue(of: keys.layout))' (--redis-partitions, env REDIS_PARTITIONS). Start it with the deployment's value; changing the layout means rebuilding Redis from MariaDB (docs/operations.md).\n")
            terminate(78)
        }
    }
}
