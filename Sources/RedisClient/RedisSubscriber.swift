import Logging
import NIOCore
import NIOPosix

/// Pub/sub on a dedicated connection (a ``ReconnectingChannel``): `subscribe` and
/// `psubscribe` return async sequences of messages. After a reconnect it subscribes
/// again to everything that is still wanted, by itself. A PING every
/// `healthCheckInterval` detects a dead server.
///
/// One Redis only: a `redis-cluster://` configuration is refused (``RedisError/notOnCluster(_:)``).
/// Pub/sub on a cluster would need `SSUBSCRIBE` routed by slot to each slot's primary and
/// moved on `MOVED` and failover; nothing in the system subscribes (delivery between
/// bridge processes goes through per-node streams, one per partition, read with `XREAD`
/// through the cluster client), so the subscriber refuses rather than talk to whichever
/// node the URL names first and miss what is published on the others.
///
/// All mutable state is confined to `eventLoop` (hence `@unchecked Sendable`).
public final class RedisSubscriber: @unchecked Sendable {
    private enum Kind: Hashable {
        case channel, pattern
        var subscribe: String { self == .channel ? "SUBSCRIBE" : "PSUBSCRIBE" }
        var unsubscribe: String { self == .channel ? "UNSUBSCRIBE" : "PUNSUBSCRIBE" }
    }

    private struct Key: Hashable {
        let kind: Kind
        let name: String
    }

    private struct Subscription {
        let keys: [Key]
        let continuation: AsyncStream<RedisPubSubMessage>.Continuation
    }

    public let configuration: RedisConfiguration
    /// How often an idle subscribed connection is PINGed to detect a dead server.
    public let healthCheckInterval: TimeAmount
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let transport: ReconnectingChannel

    private var subscriptions: [Int: Subscription] = [:]
    private var nextSubscriptionID = 0
    private var listeners: [Key: Set<Int>] = [:]
    private var confirmed: Set<Key> = []
    private var awaitingConfirmation: [Key: [EventLoopPromise<Void>]] = [:]
    private var pongDeadline: NIODeadline?
    private var healthCheck: RepeatedTask?

    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        healthCheckInterval: TimeAmount = .seconds(5),
        logger: Logger = Logger(label: "redis.pubsub")
    ) throws(RedisError) {
        if case .cluster = configuration.topology {
            throw .notOnCluster(
                "RedisSubscriber talks to one Redis; on a cluster nothing uses pub/sub (delivery between bridge processes uses per-node streams)"
            )
        }
        self.configuration = configuration
        self.healthCheckInterval = healthCheckInterval
        self.eventLoop = eventLoopGroup.next()
        self.logger = logger
        self.transport = ReconnectingChannel(
            configuration: configuration, eventLoop: eventLoop, label: "redis pub/sub", logger: logger, metrics: nil
        )
        transport.delegate = self
    }

    /// Subscribes to channels; returns once Redis has confirmed every one of them, so a
    /// message published after this returns is delivered.
    public func subscribe(to channels: [String]) async throws(RedisError) -> RedisSubscription {
        try await add(channels.map { Key(kind: .channel, name: $0) })
    }

    /// Subscribes to glob-style patterns (`PSUBSCRIBE`).
    public func psubscribe(to patterns: [String]) async throws(RedisError) -> RedisSubscription {
        try await add(patterns.map { Key(kind: .pattern, name: $0) })
    }

    /// Ends every subscription and closes the connection.
    public func shutdown() async {
        try? await eventLoop.flatSubmit { self.shutdownOnLoop() }.get()
    }

    /// True while connected and subscribed (for health checks and tests).
    public var isConnected: Bool {
        get async {
            (try? await eventLoop.submit { self.transport.readyChannel != nil }.get()) ?? false
        }
    }

    // MARK: - Subscribing

    private func add(_ keys: [Key]) async throws(RedisError) -> RedisSubscription {
        let (stream, continuation) = AsyncStream<RedisPubSubMessage>.makeStream(bufferingPolicy: .unbounded)
        let confirmation = eventLoop.flatSubmit { () -> EventLoopFuture<Int> in
            self.register(keys, continuation)
        }
        let id: Int
        do {
            id = try await confirmation.get()
        } catch {
            continuation.finish()
            throw error as? RedisError ?? .connectionClosed
        }
        continuation.onTermination = { _ in
            self.eventLoop.execute { self.remove(id) }
        }
        return RedisSubscription(stream: stream, continuation: continuation)
    }

    private func register(
        _ keys: [Key], _ continuation: AsyncStream<RedisPubSubMessage>.Continuation
    ) -> EventLoopFuture<Int> {
        guard !transport.isShutDown else { return eventLoop.makeFailedFuture(RedisError.shutdown) }
        let id = nextSubscriptionID
        nextSubscriptionID += 1
        subscriptions[id] = Subscription(keys: keys, continuation: continuation)

        var newKeys: [Key] = []
        var waits: [EventLoopFuture<Void>] = []
        for key in Set(keys) {
            if listeners[key, default: []].isEmpty { newKeys.append(key) }
            listeners[key, default: []].insert(id)
            if !confirmed.contains(key) {
                let promise = eventLoop.makePromise(of: Void.self)
                awaitingConfirmation[key, default: []].append(promise)
                waits.append(promise.futureResult)
            }
        }
        if let channel = transport.readyChannel { send(newKeys, subscribing: true, on: channel) }
        transport.connectIfIdle()

        guard !waits.isEmpty else { return eventLoop.makeSucceededFuture(id) }
        let timeout = configuration.commandTimeout
        let timer = eventLoop.scheduleTask(in: timeout) {
            for key in keys { self.failConfirmation(of: key, with: .timeout(timeout, detail: "no subscription confirmation")) }
        }
        return EventLoopFuture.andAllSucceed(waits, on: eventLoop).map { _ in
            timer.cancel()
            return id
        }.flatMapErrorThrowing { error in
            timer.cancel()
            self.remove(id)
            throw error
        }
    }

    private func remove(_ id: Int) {
        guard let subscription = subscriptions.removeValue(forKey: id) else { return }
        subscription.continuation.finish()
        var unused: [Key] = []
        for key in Set(subscription.keys) {
            listeners[key]?.remove(id)
            if listeners[key]?.isEmpty ?? false {
                listeners[key] = nil
                confirmed.remove(key)
                unused.append(key)
            }
        }
        if let channel = transport.readyChannel { send(unused, subscribing: false, on: channel) }
    }

    private func failConfirmation(of key: Key, with error: RedisError) {
        for promise in awaitingConfirmation.removeValue(forKey: key) ?? [] { promise.fail(error) }
    }

    private func send(_ keys: [Key], subscribing: Bool, on channel: any Channel) {
        guard !keys.isEmpty else { return }
        var bytes = channel.allocator.buffer(capacity: 64)
        for kind in [Kind.channel, .pattern] {
            let names = keys.filter { $0.kind == kind }.map(\.name)
            guard !names.isEmpty else { continue }
            RedisCommand(subscribing ? kind.subscribe : kind.unsubscribe, names).encode(into: &bytes)
        }
        channel.writeAndFlush(bytes, promise: nil)
    }

    // MARK: - Replies

    private func received(_ reply: RedisReply, on channel: any Channel) {
        guard transport.readyChannel === channel else { return }  // a stale channel
        dispatch(reply)
    }

    private func dispatch(_ reply: RedisReply) {
        guard case .array(let parts) = reply, let kind = parts.first?.string else { return }
        switch (kind, parts.count) {
        case ("message", 3):
            guard let name = parts[1].string, let payload = parts[2].bytes else { return }
            deliver(RedisPubSubMessage(channel: name, pattern: nil, payload: payload), to: Key(kind: .channel, name: name))
        case ("pmessage", 4):
            guard let pattern = parts[1].string, let name = parts[2].string, let payload = parts[3].bytes else { return }
            deliver(RedisPubSubMessage(channel: name, pattern: pattern, payload: payload), to: Key(kind: .pattern, name: pattern))
        case ("subscribe", 3), ("psubscribe", 3):
            guard let name = parts[1].string else { return }
            let key = Key(kind: kind == "subscribe" ? .channel : .pattern, name: name)
            guard listeners[key] != nil else { return }  // unsubscribed meanwhile
            confirmed.insert(key)
            for promise in awaitingConfirmation.removeValue(forKey: key) ?? [] { promise.succeed() }
        case ("pong", _):
            pongDeadline = nil
        default:
            break
        }
    }

    private func deliver(_ message: RedisPubSubMessage, to key: Key) {
        for id in listeners[key] ?? [] {
            subscriptions[id]?.continuation.yield(message)
        }
    }

    private func checkHealth(_ channel: any Channel) {
        guard transport.readyChannel === channel else { return }
        if let deadline = pongDeadline, deadline <= .now() {
            logger.warning("redis pub/sub connection does not answer PING; reconnecting")
            channel.close(promise: nil)
            return
        }
        if pongDeadline == nil {
            pongDeadline = .now() + configuration.commandTimeout
            var bytes = channel.allocator.buffer(capacity: 16)
            RedisCommand("PING").encode(into: &bytes)
            channel.writeAndFlush(bytes, promise: nil)
        }
    }

    private func shutdownOnLoop() -> EventLoopFuture<Void> {
        let closed = transport.shutdown()
        healthCheck?.cancel()
        healthCheck = nil
        for key in Array(awaitingConfirmation.keys) { failConfirmation(of: key, with: .shutdown) }
        let all = subscriptions
        subscriptions.removeAll()
        listeners.removeAll()
        for subscription in all.values { subscription.continuation.finish() }
        return closed
    }
}

extension RedisSubscriber: ReconnectingChannelDelegate {
    func makeHandlers() -> [any ChannelHandler] {
        // The channel is passed along so that replies of a stale channel are ignored.
        [RedisPushHandler { reply, channel in self.received(reply, on: channel) }]
    }

    func channelReady(_ channel: any Channel, reconnected: Bool) {
        if reconnected {
            logger.info("redis pub/sub connected; subscribing again", metadata: ["keys": "\(listeners.count)"])
        }
        confirmed.removeAll()
        send(Array(listeners.keys), subscribing: true, on: channel)
        pongDeadline = nil
        healthCheck?.cancel()
        healthCheck = eventLoop.scheduleRepeatedTask(initialDelay: healthCheckInterval, delay: healthCheckInterval) { _ in
            self.checkHealth(channel)
        }
    }

    func channelLost() {
        healthCheck?.cancel()
        healthCheck = nil
        confirmed.removeAll()
    }

    func connectFailed(_ reason: String) {}
}
