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
        for connection in connections { connection.start() }
    }

    /// Sends one command and returns its reply. An error reply (`-ERR …`) is returned
    /// as `.error`, not thrown; transport failures and timeouts throw `RedisError`.
    public func send(_ command: RedisCommand) async throws(RedisError) -> RedisReply {
        let connection = pickConnection()
        var bytes = allocator.buffer(capacity: 32 + command.storage.count)
        command.encode(into: &bytes)
        let deadline = NIODeadline.now() + configuration.commandTimeout
        metrics.commands.increment()
        do {
            return try await withCheckedThrowingContinuation { continuation in
                connection.submit(RedisRequest(bytes: bytes, responder: .single(continuation), deadline: deadline))
            }
        } catch {
            throw error as? RedisError ?? .connectionClosed
        }
    }

    /// Convenience: `send("SET", "key", "value")`.
    public func send(_ name: String, _ arguments: any RedisArgument...) async throws(RedisError) -> RedisReply {
        try await send(RedisCommand(name, arguments))
    }

    /// Sends the commands in one write on one connection and returns their replies in
    /// order; error replies are elements, not thrown. Cheapest way to send many.
    public func pipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        let connection = pickConnection()
        var bytes = allocator.buffer(capacity: commands.reduce(0) { $0 + 32 + $1.storage.count })
        for command in commands { command.encode(into: &bytes) }
        let deadline = NIODeadline.now() + configuration.commandTimeout
        metrics.commands.increment(by: commands.count)
        do {
            return try await withCheckedThrowingContinuation { continuation in
                let collector = RedisReplyCollector(expected: commands.count) { result in
                    continuation.resume(with: result.mapError { $0 as any Error })
                }
                connection.submit(RedisRequest(bytes: bytes, responder: .batch(collector), deadline: deadline))
            }
        } catch {
            throw error as? RedisError ?? .connectionClosed
        }
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

    private func pickConnection() -> RedisConnection {
        let count = connections.count
        let start = nextConnection.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max
        for offset in 0..<count {
            let connection = connections[(start + offset) % count]
            if connection.isReady.load(ordering: .relaxed) { return connection }
        }
        return connections[start % count]
    }
}
