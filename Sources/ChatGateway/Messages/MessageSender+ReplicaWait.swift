import Metrics
import NIOCore
import RedisClient

/// The send scripts' runs with `WAIT` after them when the deployment asks for it
/// (`--redis-wait-replicas`): an accepted message is then on a replica before the sender
/// hears so, and survives its primary's death (docs/benchmarks.md, *Redis Cluster*).
extension MessageSender {
    /// Accepted, but fewer replicas than asked acknowledged within the timeout: the
    /// message is on the primary only (a send's steps count here too).
    static let unacknowledged = Counter(label: "chat_redis_wait_short_total")

    func runSend<Call: RedisScriptCall>(_ call: Call) async throws(RedisError) -> Call.Reply {
        guard let wait = policy.replicaAcknowledgement else { return try await scripts.run(call) }
        let (reply, replicas) = try await scripts.run(call, acknowledgedBy: wait)
        if replicas < wait.replicas { Self.unacknowledged.increment() }
        return reply
    }

    func runSend<Call: RedisScriptCall>(_ call: Call, on eventLoop: any EventLoop) -> EventLoopFuture<Call.Reply> {
        guard let wait = policy.replicaAcknowledgement else { return scripts.run(call, on: eventLoop) }
        return scripts.run(call, acknowledgedBy: wait, on: eventLoop).map { reply, replicas in
            if replicas < wait.replicas { Self.unacknowledged.increment() }
            return reply
        }
    }
}

extension RedisScripts {
    /// A step of an operation split over partitions whose loss in a failover would break
    /// the promise (`SingleSendSteps`, `GroupSendSteps`), with `WAIT` after it when the
    /// deployment asks (`wait`); fewer replicas than asked is counted, as for the one run.
    func runAcknowledged<Call: RedisScriptCall>(_ call: Call, _ wait: ReplicaAcknowledgement?) async throws(RedisError) -> Call.Reply {
        guard let wait else { return try await run(call) }
        let (reply, replicas) = try await run(call, acknowledgedBy: wait)
        if replicas < wait.replicas { MessageSender.unacknowledged.increment() }
        return reply
    }
}
