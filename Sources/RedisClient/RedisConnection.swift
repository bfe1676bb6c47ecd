import DequeModule
import Logging
import Metrics
import NIOCore
import Synchronization

/// One connection of the pool, bound to one event loop, that keeps itself connected.
///
/// Requests that arrive while it is (re)connecting wait in a queue until they are sent
/// or their deadline passes; requests in flight when the connection breaks fail with
/// `RedisError.connectionClosed` (they may have run). All mutable state is touched
/// only on `eventLoop`, which is why the class is `@unchecked Sendable`.
final class RedisConnection: @unchecked Sendable {
    private enum State {
        case idle
        case connecting
        case ready(any Channel, RedisRequestHandler)
        case waitingToReconnect(Scheduled<Void>)
        case shutDown
    }

    let eventLoop: any EventLoop
    private let configuration: RedisConfiguration
    private let logger: Logger
    private let metrics: RedisClientMetrics

    /// Read without a lock by the pool to prefer connections that are up.
    let isReady = Atomic<Bool>(false)

    private var state = State.idle
    private var waiting = Deque<RedisRequest>()
    private var waitingTimer: Scheduled<Void>?
    private let backoff: Backoff
    /// Consecutive failed attempts to connect (0 while connected).
    private var failures = 0
    private var lastConnectionError = "connecting"
    private var shutdownPromise: EventLoopPromise<Void>?

    init(configuration: RedisConfiguration, eventLoop: any EventLoop, logger: Logger, metrics: RedisClientMetrics) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.logger = logger
        self.metrics = metrics
        self.backoff = Backoff(configuration.reconnectBackoff)
    }

    /// Starts connecting now rather than on the first command.
    func start() {
        eventLoop.execute { self.connectIfIdle() }
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
        switch state {
        case .ready(_, let handler):
            if handler.send(request) { return }
            enqueue(request)  // the channel is closing; its close callback reconnects
        case .idle:
            enqueue(request)
            connectIfIdle()
        case .connecting, .waitingToReconnect:
            enqueue(request)
        case .shutDown:
            request.fail(.shutdown)
        }
    }

    private func connectIfIdle() {
        guard case .idle = state else { return }
        connect()
    }

    private func connect() {
        state = .connecting
        let configuration = self.configuration
        let endpoint = configuration.endpoint.description
        let timeout = configuration.commandTimeout
        let metrics = self.metrics
        RedisChannelFactory.connect(configuration, on: eventLoop) {
            [RedisReplyDecoder(), RedisRequestHandler(endpointDescription: endpoint, commandTimeout: timeout, metrics: metrics)]
        }.whenComplete { result in
            switch result {
            case .success(let channel): self.handshake(channel)
            case .failure(let error): self.connectionFailed("\(error)")
            }
        }
    }

    private func handshake(_ channel: any Channel) {
        guard case .connecting = state else {  // shut down meanwhile
            channel.close(promise: nil)
            return
        }
        let handler: RedisRequestHandler
        do {
            handler = try channel.pipeline.syncOperations.handler(type: RedisRequestHandler.self)
        } catch {
            channel.close(promise: nil)
            connectionFailed("\(error)")
            return
        }
        let commands = RedisChannelFactory.handshake(configuration)
        var bytes = channel.allocator.buffer(capacity: 64)
        for command in commands { command.encode(into: &bytes) }
        let promise = eventLoop.makePromise(of: [RedisReply].self)
        let collector = RedisReplyCollector(expected: commands.count) { promise.completeWith($0.mapError { $0 }) }
        let sent = handler.send(RedisRequest(
            bytes: bytes, responder: .batch(collector), deadline: .now() + configuration.commandTimeout
        ))
        if !sent { collector.complete(.failure(.connectionClosed)) }

        promise.futureResult.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let replies):
                if let refusal = replies.lazy.compactMap(\.errorMessage).first {
                    channel.close(promise: nil)
                    self.connectionFailed("handshake refused: \(refusal)")
                } else {
                    self.connected(channel, handler)
                }
            case .failure(let error):
                channel.close(promise: nil)
                self.connectionFailed("\(error)")
            }
        }
    }

    private func connected(_ channel: any Channel, _ handler: RedisRequestHandler) {
        guard case .connecting = state else {
            channel.close(promise: nil)
            return
        }
        if failures > 0 {
            logger.info("redis connected", metadata: ["endpoint": "\(configuration.endpoint)"])
        }
        failures = 0
        state = .ready(channel, handler)
        isReady.store(true, ordering: .relaxed)
        channel.closeFuture.whenComplete { _ in self.channelClosed(channel) }

        waitingTimer?.cancel()
        waitingTimer = nil
        while let request = waiting.popFirst() {
            if !handler.send(request) {
                waiting.prepend(request)
                break
            }
        }
    }

    private func channelClosed(_ channel: any Channel) {
        guard case .ready(let current, _) = state, current === channel else { return }
        isReady.store(false, ordering: .relaxed)
        metrics.reconnects.increment()
        logger.warning("redis connection lost; reconnecting", metadata: ["endpoint": "\(configuration.endpoint)"])
        lastConnectionError = "connection lost"
        scheduleReconnect()
    }

    private func connectionFailed(_ reason: String) {
        guard case .connecting = state else { return }
        lastConnectionError = reason
        if failures == 0 || failures % 10 == 0 {
            logger.warning("redis connection failed", metadata: [
                "endpoint": "\(configuration.endpoint)", "error": "\(reason)", "attempt": "\(failures)",
            ])
        }
        scheduleReconnect()
    }

    private func scheduleReconnect() {
        failures += 1
        let delay = TimeAmount(backoff.delay(afterAttempt: failures))
        let task = eventLoop.scheduleTask(in: delay) { self.reconnectTimerFired() }
        state = .waitingToReconnect(task)
        armWaitingTimer()
    }

    private func reconnectTimerFired() {
        guard case .waitingToReconnect = state else { return }
        connect()
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
        let previous = state
        state = .shutDown
        isReady.store(false, ordering: .relaxed)
        waitingTimer?.cancel()
        waitingTimer = nil
        while let request = waiting.popFirst() { request.fail(.shutdown) }
        switch previous {
        case .ready(let channel, _):
            return channel.close().recover { _ in }
        case .waitingToReconnect(let task):
            task.cancel()
            return eventLoop.makeSucceededVoidFuture()
        case .idle, .connecting, .shutDown:
            return eventLoop.makeSucceededVoidFuture()
        }
    }
}
