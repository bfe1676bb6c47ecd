import NIOCore

/// `WAIT numreplicas timeout` after a write (docs/benchmarks.md, *Redis Cluster*): the
/// reply waits until `replicas` replicas hold every write the connection made so far, or
/// the timeout passed. Redis replicates asynchronously, so a primary killed before its
/// replica read a write loses that write when the replica is promoted; a write answered
/// after `WAIT 1` is on a replica, which is the one promoted when it is the only one.
/// WAIT counts the writes of its own connection, so it goes right after the write, on the
/// same connection: one pipeline, which the cluster client keeps whole on the write's slot.
public struct ReplicaAcknowledgement: Sendable, Hashable {
    public let replicas: Int
    public let timeoutMilliseconds: Int

    public init(replicas: Int, timeoutMilliseconds: Int) {
        precondition(replicas >= 1 && timeoutMilliseconds >= 0)
        self.replicas = replicas
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    public var command: RedisCommand { RedisCommand("WAIT", replicas, timeoutMilliseconds) }
}

extension RedisScripts {
    /// Runs a script call and `WAIT` after it on the same connection; returns the call's
    /// reply and how many replicas acknowledged (fewer than asked: the timeout passed, the
    /// write is on the primary only). `NOSCRIPT` is answered as `run(_:)` does.
    public func run<Call: RedisScriptCall>(
        _ call: Call, acknowledgedBy wait: ReplicaAcknowledgement, isolation: isolated (any Actor)? = #isolation
    ) async throws(RedisError) -> (reply: Call.Reply, replicas: Int) {
        guard let script = script(named: Call.scriptName) else { throw .unknownScript(Call.scriptName) }
        var replies = try await client.pipeline([call.command("EVALSHA", script.sha), wait.command], isolation: isolation)
        if replies[0].errorMessage?.hasPrefix("NOSCRIPT") == true {
            client.noteScriptReload()
            replies = try await client.pipeline([call.command("EVAL", script.source), wait.command], isolation: isolation)
        }
        return (try Call.decode(RedisFlatReply(replies[0])), Int(replies[1].integer ?? 0))
    }

    /// The same for code on an event loop (channel handlers).
    public func run<Call: RedisScriptCall>(
        _ call: Call, acknowledgedBy wait: ReplicaAcknowledgement, on eventLoop: any EventLoop
    ) -> EventLoopFuture<(reply: Call.Reply, replicas: Int)> {
        guard let script = script(named: Call.scriptName) else {
            return eventLoop.makeFailedFuture(RedisError.unknownScript(Call.scriptName))
        }
        let client = client
        return client.pipeline([call.command("EVALSHA", script.sha), wait.command], on: eventLoop)
            .flatMap { (replies: [RedisReply]) -> EventLoopFuture<[RedisReply]> in
                guard replies[0].errorMessage?.hasPrefix("NOSCRIPT") == true else { return eventLoop.makeSucceededFuture(replies) }
                client.noteScriptReload()
                return client.pipeline([call.command("EVAL", script.source), wait.command], on: eventLoop)
            }
            .flatMapThrowing { (replies: [RedisReply]) -> (reply: Call.Reply, replicas: Int) in
                (try Call.decode(RedisFlatReply(replies[0])), Int(replies[1].integer ?? 0))
            }
    }
}
