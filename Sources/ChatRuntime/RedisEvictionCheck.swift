import Logging
import RedisClient

/// Refuses to start on a Redis that may evict keys (docs/operations.md, *Sizing Redis*):
/// an evicted id counter hands out ids again, an evicted unique index lets a second
/// account take a username, an evicted offline queue loses messages. Only
/// `maxmemory-policy noeviction` keeps every key (writes fail when memory is full
/// instead), so the bridge and the persister check it before anything else.
public enum RedisEvictionCheck {
    /// What `INFO memory` (or `CONFIG GET maxmemory-policy`) answered.
    public enum Outcome: Sendable, Equatable {
        case noEviction
        case evicts(policy: String)
        /// Neither INFO nor CONFIG is allowed (a managed Redis renames or forbids them),
        /// or the reply is not the expected one.
        case unknown(reason: String)
    }

    /// Asks Redis for its policy once; nil when Redis cannot be reached. `INFO memory`
    /// first: the ACL users of docs/operations.md (*Redis ACL*) have INFO but not CONFIG
    /// (`CONFIG GET *` would show the passwords), and a refused command is an entry in
    /// the ACL log that operators watch. Where INFO is refused, `CONFIG GET`.
    public static func read(redis: RedisClient) async -> Outcome? {
        let info: RedisReply
        do {
            info = try await redis.send("INFO", "memory")
        } catch {
            return nil
        }
        let prefix = "maxmemory_policy:"
        if let text = info.string,
           let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix(prefix) }) {
            // "\r\n" is one Character, a newline: the line ends with the policy.
            return outcome(String(line.dropFirst(prefix.count)))
        }
        let infoProblem = info.errorMessage ?? "INFO memory has no \(prefix)"
        let reply: RedisReply
        do {
            reply = try await redis.send("CONFIG", "GET", "maxmemory-policy")
        } catch {
            return nil
        }
        if let message = reply.errorMessage { return .unknown(reason: "\(infoProblem); \(message)") }
        guard let pair = reply.array, pair.count == 2, let policy = pair[1].string else {
            return .unknown(reason: "unexpected reply \(reply)")
        }
        return outcome(policy)
    }

    private static func outcome(_ policy: String) -> Outcome {
        policy == "noeviction" ? .noEviction : .evicts(policy: policy)
    }

    /// Checks before the process starts its work: returns when the policy is noeviction
    /// or the override is given, else writes why to standard error and exits with status
    /// 78 (EX_CONFIG). A Redis that cannot be reached yet does not hold the start up (the
    /// process serves its health check as unhealthy meanwhile): it is checked in the
    /// background until it answers, with the same verdict.
    public static func enforce(
        redis: RedisClient, allowEviction: Bool, executable: String, logger: Logger
    ) async {
        if let outcome = await read(redis: redis) {
            verdict(outcome, allowEviction: allowEviction, executable: executable, logger: logger)
            return
        }
        logger.warning("Redis cannot be reached: its maxmemory-policy is checked once it answers")
        Task.detached {
            while true {
                try? await Task.sleep(for: .milliseconds(500))
                if let outcome = await read(redis: redis) {
                    verdict(outcome, allowEviction: allowEviction, executable: executable, logger: logger)
                    return
                }
            }
        }
    }

    private static func verdict(_ outcome: Outcome, allowEviction: Bool, executable: String, logger: Logger) {
        let problem: String
        switch outcome {
        case .noEviction:
            return
        case .evicts(let policy):
            problem = "Redis' maxmemory-policy is '\(policy)', not 'noeviction': Redis may evict id counters, unique indexes and offline queues, and lose data"
        case .unknown(let reason):
            problem = "Redis' maxmemory-policy could not be read (\(reason)); it must be 'noeviction'"
        }
        if allowEviction {
            logger.critical("\(problem). STARTING ANYWAY because --redis-allow-eviction is set: evicted keys are data lost")
            return
        }
        writeStandardError("\(executable): \(problem). Set it (CONFIG SET maxmemory-policy noeviction, and in redis.conf), or start with --redis-allow-eviction true (env REDIS_ALLOW_EVICTION) to run anyway.\n")
        terminate(78)
    }
}
