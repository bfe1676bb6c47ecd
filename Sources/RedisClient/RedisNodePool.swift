import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The pipelined connections to one server: what ``RedisClient`` sends through to a
/// single Redis, and what the cluster client keeps per primary.
///
/// Requests are spread over the connections round-robin (an atomic counter, no lock),
/// preferring connections that are up.
final class RedisNodePool: Sendable {
    let configuration: RedisConfiguration
    private let connections: [RedisConnection]
    /// The connections of each event loop, for callers already running on one.
    private let connectionsByLoop: [ObjectIdentifier: [RedisConnection]]
    private let nextConnection = Atomic<Int>(0)

    /// `failsWhenUnreachable`: requests waiting for a connection fail with
    /// `.unreachable` as soon as an attempt to connect fails, instead of at their
    /// deadline — for a cluster, which sends them to the slot's new primary instead.
    init(
        configuration: RedisConfiguration, eventLoopGroup: any EventLoopGroup, logger: Logger,
        metrics: RedisClientMetrics, failsWhenUnreachable: Bool = false
    ) {
        self.configuration = configuration
        self.connections = (0..<max(1, configuration.poolSize)).map { _ in
            RedisConnection(
                configuration: configuration, eventLoop: eventLoopGroup.next(), logger: logger, metrics: metrics,
                failsWaitingWhenUnreachable: failsWhenUnreachable
            )
        }
        self.connectionsByLoop = Dictionary(grouping: connections) { ObjectIdentifier($0.eventLoop) }
        for connection in connections { connection.start() }
    }

    func submit(_ request: RedisRequest) {
        pickConnection().submit(request)
    }

    /// The connection that `pin` picks among the ready ones: requests with the same pin,
    /// submitted to it in order from one thread, are written in that order.
    func connection(pinnedBy pin: Int) -> RedisConnection {
        firstReady(in: connections, from: pin & Int.max) ?? connections[(pin & Int.max) % connections.count]
    }

    /// True when at least one connection is up.
    var isReady: Bool {
        connections.contains { $0.isReady.load(ordering: .relaxed) }
    }

    /// Closes every connection; waiting and later requests fail with `.shutdown`.
    func shutdown() async {
        for connection in connections {
            try? await connection.shutdown().get()
        }
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
