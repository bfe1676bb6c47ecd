import DequeModule
import Logging
import Metrics
import NIOCore
import Synchronization

/// One connection of the pool, bound to one event loop, that keeps itself connected
/// (a ``ReconnectingChannel``) and pipelines requests on it.
///
/// Requests that arrive while it is (re)connecting wait in a queue until they are sent
/// or their deadline passes; requests in flight when the connection breaks fail with
/// `RedisError.connectionClosed` (they may have run). All mutable state is touched
/// only on `eventLoop`, which is why the class is `@unchecked Sendable`.
final class RedisConnection: @unchecked Sendable {
    let eventLoop: any EventLoop
    private let configuration: RedisConfiguration
    private let logger: Logger
    private let metrics: RedisClientMetrics
    private let transport: ReconnectingChannel

    /// Read without a lock by the pool to prefer connections that are up.
    let isReady = Atomic<Bool>(false)

    /// The pipelining handler of the ready channel; nil while (re)connecting.
    private var handler: RedisRequestHandler?
    private var waiting = Deque<RedisRequest>()
    private var waitingTimer: Scheduled<Void>?
    private var lastConnectionError = "connecting"
    /// Fail the waiting requests when an attempt to connect fails (see ``RedisNodePool``).
    private let failsWaitingWhenUnreachable: Bool

    init(
        configuration: RedisConfiguration, eventLoop: any EventLoop, logger: Logger, metrics: RedisClientMetrics,
        failsWaitingWhenUnreachable: Bool = false
    ) {
        self.configuration = configuration
        self.failsWaitingWhenUnreachable = failsWaitingWhenUnreachable
        self.eventLoop = eventLoop
        self.logger = logger
        self.metrics = metrics
        self.transport = ReconnectingChannel(
            configuration: configuration, eventLoop: eventLoop, label: "redis", logger: logger, metrics: metrics
        )
        transport.delegate = self
    }

    /// Starts connecting now rather than on the first command.
    func start() {
        eventLoop.execute { self.transport.connectIfIdle() }
    }

    func submit(_ request: RedisRequest) {
        if eventLoop.inEventLoop {
            submitOnLoop(request)
        } else {
            eventLoop.execute { self.submitOnLoop(request) }
        }
    }

    func shutdown() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            self.shutdownOnLoop()
        }
    }

    // MARK: - On the event loop

    private func submitOnLoop(_ request: RedisRequest) {
        if let handler {
            if handler.send(request) { return }
            enqueue(request)  // the channel is closing; its close callback reconnects
        } else if transport.isShutDown {
            request.fail(.shutdown)
        } else {
            enqueue(request)
            transport.connectIfIdle()
        }
    }

    private func enqueue(_ request: RedisRequest) {
        waiting.append(request)
        armWaitingTimer()
    }

    // Queued requests time out too: a Redis that cannot be reached makes calls fail
    // within their timeout instead of waiting for a connection forever.
    private func armWaitingTimer() {
        guard waitingTimer == nil, let head = waiting.first else { return }
        waitingTimer = eventLoop.scheduleTask(deadline: head.deadline) { self.expireWaiting() }
    }

    private func expireWaiting() {
        waitingTimer = nil
        let now = NIODeadline.now()
        let detail = "not connected to \(configuration.endpoint): \(lastConnectionError)"
        while let head = waiting.first, head.deadline <= now {
            waiting.removeFirst()
            metrics.timeouts.increment()
            head.fail(.timeout(configuration.commandTimeout, detail: detail))
        }
        armWaitingTimer()
    }

    private func shutdownOnLoop() -> EventLoopFuture<Void> {
        let closed = transport.shutdown()
        handler = nil
        isReady.store(false, ordering: .relaxed)
        waitingTimer?.cancel()
        waitingTimer = nil
        while let request = waiting.popFirst() { request.fail(.shutdown) }
        return closed
    }
}

extension RedisConnection: ReconnectingChannelDelegate {
    func makeHandlers() -> [any ChannelHandler] {
        [RedisRequestHandler(endpointDescription: configuration.endpoint.description, commandTimeout: configuration.commandTimeout, metrics: metrics)]
    }

    func channelReady(_ channel: any Channel, reconnected: Bool) {
        guard let handler = try? channel.pipeline.syncOperations.handler(type: RedisRequestHandler.self) else {
            channel.close(promise: nil)  // cannot happen: the handler is added with the channel
            return
        }
        if reconnected {
            logger.info("redis connected", metadata: ["endpoint": "\(configuration.endpoint)"])
        }
        self.handler = handler
        isReady.store(true, ordering: .relaxed)

        waitingTimer?.cancel()
        waitingTimer = nil
        while let request = waiting.popFirst() {
            if !handler.send(request) {
                waiting.prepend(request)
                break
            }
        }
    }

    func channelLost() {
        handler = nil
        isReady.store(false, ordering: .relaxed)
        lastConnectionError = "connection lost"
        armWaitingTimer()
    }

    func connectFailed(_ reason: String) {
        lastConnectionError = reason
        if failsWaitingWhenUnreachable {
            waitingTimer?.cancel()
            waitingTimer = nil
            let error = RedisError.unreachable("\(configuration.endpoint): \(reason)")
            while let request = waiting.popFirst() { request.fail(error) }
        }
        armWaitingTimer()
    }
}
