import Logging
import NIOCore

/// What a ``ReconnectingChannel`` serves: the command pool's pipelining or pub/sub.
/// Called on the channel's event loop.
protocol ReconnectingChannelDelegate: AnyObject, Sendable {
    /// The handlers of a new channel, after the reply decoder and the handshake.
    func makeHandlers() -> [any ChannelHandler]
    /// The handshake was answered: `channel` is the one to use until `channelLost`.
    /// `reconnected` is true after a failure or a lost connection.
    func channelReady(_ channel: any Channel, reconnected: Bool)
    /// The ready channel closed; a new one is on its way.
    func channelLost()
    /// An attempt to connect failed (`reason` says why); another one is on its way.
    func connectFailed(_ reason: String)
}

/// A channel to Redis that keeps itself connected: it connects, runs the handshake,
/// and after a failure or a lost connection tries again after a ``Backoff`` delay,
/// until shut down. What the channel carries is the delegate's business.
///
/// All mutable state is touched only on `eventLoop`, hence `@unchecked Sendable`.
final class ReconnectingChannel: @unchecked Sendable {
    private enum State {
        case idle
        case connecting
        case handshaking(any Channel)
        case ready(any Channel)
        case waitingToReconnect(Scheduled<Void>)
        case shutDown
    }

    let eventLoop: any EventLoop
    let configuration: RedisConfiguration
    weak var delegate: (any ReconnectingChannelDelegate)?
    /// Names the connection in the log: "redis connection failed".
    private let label: String
    private let logger: Logger
    private let metrics: RedisClientMetrics?
    private let backoff: Backoff

    private var state = State.idle
    /// Consecutive failed attempts to connect, a lost connection counted as one (0 while
    /// connected).
    private var failures = 0

    init(configuration: RedisConfiguration, eventLoop: any EventLoop, label: String, logger: Logger, metrics: RedisClientMetrics?) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.label = label
        self.logger = logger
        self.metrics = metrics
        self.backoff = Backoff(configuration.reconnectBackoff)
    }

    // MARK: - On the event loop

    /// The channel while it is connected and past its handshake.
    var readyChannel: (any Channel)? {
        if case .ready(let channel) = state { return channel }
        return nil
    }

    var isShutDown: Bool {
        if case .shutDown = state { return true }
        return false
    }

    /// Starts connecting unless it is already connecting, connected or shut down.
    func connectIfIdle() {
        guard case .idle = state else { return }
        connect()
    }

    /// Closes the channel, or stops waiting to reconnect; it never connects again.
    func shutdown() -> EventLoopFuture<Void> {
        let previous = state
        state = .shutDown
        switch previous {
        case .handshaking(let channel), .ready(let channel):
            return channel.close().recover { _ in }
        case .waitingToReconnect(let task):
            task.cancel()
            return eventLoop.makeSucceededVoidFuture()
        case .idle, .connecting, .shutDown:
            return eventLoop.makeSucceededVoidFuture()
        }
    }

    private func connect() {
        state = .connecting
        let commands = RedisChannelFactory.handshake(configuration)
        let timeout = configuration.commandTimeout
        RedisChannelFactory.connect(configuration, on: eventLoop) {
            [RedisReplyDecoder(), RedisHandshakeHandler(commands: commands, timeout: timeout)] + (self.delegate?.makeHandlers() ?? [])
        }.whenComplete { result in
            switch result {
            case .success(let channel): self.handshake(channel)
            case .failure(let error): self.connectFailed("\(error)")
            }
        }
    }

    private func handshake(_ channel: any Channel) {
        guard case .connecting = state else {  // shut down meanwhile
            channel.close(promise: nil)
            return
        }
        guard let replies = try? channel.pipeline.syncOperations.handler(type: RedisHandshakeHandler.self).replies else {
            channel.close(promise: nil)
            connectFailed("connection closed during handshake")
            return
        }
        state = .handshaking(channel)
        replies.assumeIsolated().whenComplete { result in
            guard case .handshaking(let current) = self.state, current === channel else {
                channel.close(promise: nil)
                return
            }
            switch result {
            case .success(let replies):
                if let refusal = replies.lazy.compactMap(\.errorMessage).first {
                    channel.close(promise: nil)
                    self.connectFailed("handshake refused: \(refusal)")
                } else {
                    self.ready(channel)
                }
            case .failure(let error):
                channel.close(promise: nil)
                if case .timeout = error as? RedisError { self.metrics?.timeouts.increment() }
                self.connectFailed("\(error)")
            }
        }
    }

    private func ready(_ channel: any Channel) {
        let reconnected = failures > 0
        failures = 0
        state = .ready(channel)
        channel.closeFuture.whenComplete { _ in self.channelClosed(channel) }
        delegate?.channelReady(channel, reconnected: reconnected)
    }

    private func channelClosed(_ channel: any Channel) {
        guard case .ready(let current) = state, current === channel else { return }
        metrics?.reconnects.increment()
        logger.warning("\(label) connection lost; reconnecting", metadata: ["endpoint": "\(configuration.endpoint)"])
        scheduleReconnect()
        delegate?.channelLost()
    }

    private func connectFailed(_ reason: String) {
        switch state {
        case .connecting, .handshaking: break
        default: return
        }
        if failures % 10 == 0 {
            logger.warning("\(label) connection failed", metadata: [
                "endpoint": "\(configuration.endpoint)", "error": "\(reason)", "attempt": "\(failures)",
            ])
        }
        scheduleReconnect()
        delegate?.connectFailed(reason)
    }

    private func scheduleReconnect() {
        failures += 1
        let task = eventLoop.scheduleTask(in: TimeAmount(backoff.delay(afterAttempt: failures))) {
            guard case .waitingToReconnect = self.state else { return }
            self.connect()
        }
        state = .waitingToReconnect(task)
    }
}
