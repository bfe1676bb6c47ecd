import Logging
import NIOCore
import NIOPosix

/// The project's Redis client: a pool of pipelined connections to one Redis server, or —
/// for a `redis-cluster://` configuration — to each primary of a Redis Cluster, every
/// command routed to the primary of its keys' slot (``RedisClusterClient``). Callers see
/// one API either way.
///
/// Commands are spread over the connections round-robin, preferring connections that are
/// up. Each connection pipelines: any number of commands may be in flight on it, their
/// replies matched in order. Every command either gets its reply or fails with a
/// `RedisError` within `commandTimeout`.
public final class RedisClient: Sendable {
    private enum Backend: Sendable {
        case single(RedisNodePool)
        case cluster(RedisClusterClient)
    }

    public let configuration: RedisConfiguration
    private let backend: Backend
    private let allocator = ByteBufferAllocator()
    private let metrics: RedisClientMetrics
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger

    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "redis")
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        let metrics = RedisClientMetrics(label: logger.label)
        self.metrics = metrics
        switch configuration.topology {
        case .single:
            backend = .single(RedisNodePool(
                configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger, metrics: metrics
            ))
        case .cluster(let seeds):
            backend = .cluster(RedisClusterClient(
                configuration: configuration, seeds: seeds, eventLoopGroup: eventLoopGroup, logger: logger, metrics: metrics
            ))
        }
    }

    /// True for a client of a Redis Cluster.
    public var isCluster: Bool {
        if case .cluster = backend { return true }
        return false
    }

    /// Sends one command and returns its reply. An error reply (`-ERR …`) is returned
    /// as `.error`, not thrown; transport failures and timeouts throw `RedisError`.
    ///
    /// It runs isolated to the caller, and the reply resumes the caller on its own
    /// executor: a caller on an event loop of the pool (a NIO handler, an actor whose
    /// executor is that loop) sends and gets its reply without a single thread hop.
    public func send(
        _ command: RedisCommand, isolation: isolated (any Actor)? = #isolation
    ) async throws(RedisError) -> RedisReply {
        try await request(command, isolation: isolation, RedisResponder.single)
    }

    /// Sends one command and returns its reply flat, as hiredis parsed it: for big
    /// replies read once (a stream read of thousands of entries), with no tree of
    /// arrays built. Errors as ``send(_:isolation:)``.
    public func sendFlat(
        _ command: RedisCommand, isolation: isolated (any Actor)? = #isolation
    ) async throws(RedisError) -> RedisFlatReply {
        try await request(command, isolation: isolation, RedisResponder.flat)
    }

    /// The same as ``sendFlat(_:isolation:)`` for code on an event loop (channel
    /// handlers): no task, no continuation; the reply completes on `eventLoop`.
    public func sendFlat(_ command: RedisCommand, on eventLoop: any EventLoop) -> EventLoopFuture<RedisFlatReply> {
        let promise = eventLoop.makePromise(of: RedisFlatReply.self)
        submit(CollectionOfOne(command), .flatPromise(promise))
        return promise.futureResult
    }

    /// One command, its reply handed to the continuation the responder wraps.
    private func request<Reply: Sendable>(
        _ command: RedisCommand, isolation: isolated (any Actor)?,
        _ responder: (CheckedContinuation<Reply, any Error>) -> RedisResponder
    ) async throws(RedisError) -> Reply {
        do {
            return try await withCheckedThrowingContinuation(isolation: isolation) { continuation in
                submit(CollectionOfOne(command), responder(continuation))
            }
        } catch {
            throw error as? RedisError ?? .connectionClosed
        }
    }

    /// Convenience: `send("SET", "key", "value")`.
    public func send(
        _ name: String, _ arguments: any RedisArgument..., isolation: isolated (any Actor)? = #isolation
    ) async throws(RedisError) -> RedisReply {
        try await send(RedisCommand(name, arguments), isolation: isolation)
    }

    /// Sends the commands in one write on one connection and returns their replies in
    /// order; error replies are elements, not thrown. Cheapest way to send many.
    public func pipeline(
        _ commands: [RedisCommand], isolation: isolated (any Actor)? = #isolation
    ) async throws(RedisError) -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        do {
            return try await withCheckedThrowingContinuation(isolation: isolation) { continuation in
                submit(commands, .batch(RedisReplyCollector(expected: commands.count) { result in
                    continuation.resume(with: result.mapError { $0 as any Error })
                }))
            }
        } catch {
            throw error as? RedisError ?? .connectionClosed
        }
    }

    /// The same as `pipeline(_:)` for code that lives on an event loop (channel
    /// handlers): no task and no continuation. Called on one of the pool's loops, the
    /// request and its replies never leave that thread.
    public func pipeline(_ commands: [RedisCommand], on eventLoop: any EventLoop) -> EventLoopFuture<[RedisReply]> {
        guard !commands.isEmpty else { return eventLoop.makeSucceededFuture([]) }
        let promise = eventLoop.makePromise(of: [RedisReply].self)
        submit(commands, .batch(RedisReplyCollector(expected: commands.count) { result in
            promise.completeWith(result.mapError { $0 as any Error })
        }))
        return promise.futureResult
    }

    /// The one way requests leave, with the deadline of the command timeout: to one
    /// server encoded here, on the caller's thread, in one buffer; to a cluster through
    /// its router.
    private func submit(_ commands: some Collection<RedisCommand>, _ responder: RedisResponder) {
        let deadline = NIODeadline.now() + configuration.commandTimeout
        switch backend {
        case .single(let pool):
            var bytes = allocator.buffer(capacity: commands.reduce(0) { $0 + $1.encoded.count })
            for command in commands { command.encode(into: &bytes) }
            metrics.commands.increment(by: commands.count)
            pool.submit(RedisRequest(bytes: bytes, responder: responder, deadline: deadline))
        case .cluster(let cluster):
            cluster.submit(Array(commands), responder, deadline: deadline)
        }
    }

    /// True when a PING is answered within the command timeout.
    public func ping() async -> Bool {
        (try? await send(RedisCommand("PING"))) == .status("PONG")
    }

    /// Closes every connection; waiting and later commands fail with `.shutdown`.
    public func shutdown() async {
        switch backend {
        case .single(let pool): await pool.shutdown()
        case .cluster(let cluster): await cluster.shutdown()
        }
    }

    func noteScriptReload() {
        metrics.noscriptReloads.increment()
    }
}
