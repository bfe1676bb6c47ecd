import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A pool of pipelined connections to one Redis server.
///
/// Commands are spread over the connections round-robin (an atomic counter, no lock),
/// preferring connections that are up. Each connection pipelines: any number of
/// commands may be in flight on it, their replies matched in order. Every command
/// either gets its reply or fails with a `RedisError` within `commandTimeout`.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let connections: [RedisConnection]
    /// The connections of each event loop, for callers already running on one.
    private let connectionsByLoop: [ObjectIdentifier: [RedisConnection]]
    private let nextConnection = Atomic<Int>(0)
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
        self.connections = (0..<max(1, configuration.poolSize)).map { _ in
            RedisConnection(
                configuration: configuration, eventLoop: eventLoopGroup.next(), logger: logger, metrics: metrics
            )
        }
        self.connectionsByLoop = Dictionary(grouping: connections) { ObjectIdentifier($0.eventLoop) }
        for connection in connections { connection.start() }
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

    /// The one way requests leave: encoded here, on the caller's thread, in one buffer,
    /// with the deadline of the command timeout, to a connection chosen by `pickConnection`.
    private func submit(_ commands: some Collection<RedisCommand>, _ responder: RedisResponder) {
        var bytes = allocator.buffer(capacity: commands.reduce(0) { $0 + $1.encoded.count })
        for command in commands { command.encode(into: &bytes) }
        metrics.commands.increment(by: commands.count)
        pickConnection().submit(RedisRequest(
            bytes: bytes, responder: responder, deadline: .now() + configuration.commandTimeout
        ))
    }

    /// True when a PING is answered within the command timeout.
    public func ping() async -> Bool {
        (try? await send(RedisCommand("PING"))) == .status("PONG")
    }

    /// Closes every connection; waiting and later commands fail with `.shutdown`.
    public func shutdown() async {
        for connection in connections {
            try? await connection.shutdown().get()
        }
    }

    func noteScriptReload() {
        metrics.noscriptReloads.increment()
    }

    /// Round-robin over the ready connections; a caller on one of the pool's event
    /// loops gets a connection of that loop, so its request never changes thread.
    private func pickConnection() -> RedisConnection {
        let start = nextConnection.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max
        if let loop = MultiThreadedEventLoopGroup.currentEventLoop,
           let local = connectionsByLoop[ObjectIdentifier(loop)],
           let connection = firstReady(in: local, from: start) {
            return connection
        }
        return firstReady(in: connections, from: start) ?? connections[start % connections.count]
    }

    private func firstReady(in candidates: [RedisConnection], from start: Int) -> RedisConnection? {
        let count = candidates.count
        for offset in 0..<count {
            let connection = candidates[(start + offset) % count]
            if connection.isReady.load(ordering: .relaxed) { return connection }
        }
        return nil
    }
}
