import ChatScripts
import HummingbirdCore
import Logging
import Metrics
import Model
import NIOCore
import NIOHTTP1
import NIOWebSocket
import RedisClient

/// The `/ws` gateway (docs/api.md): runs one upgraded connection from its first frame
/// to its release. The upgrade is always accepted; a connection that cannot be served is
/// told why and closed with a close frame. A served one becomes its user's delivery
/// target, gets its offline queue, the welcome and the guidance, and stays in this
/// process's connection table until it closes.
package struct Gateway: Sendable {
    /// The refusals of docs/api.md, *Connecting*.
    enum Refusal: String, Error {
        case noToken = "缺少 token 参数"
        case invalidToken = "Token 不合法"
        case missingUser = "用户不存在"
        case disabled = "你已被管理员禁用"
    }

    let tokens: TokenService
    let delivery: MessageDelivery
    let sender: MessageSender
    let guidance: GuidanceMessages
    let limits: GatewayLimits
    /// The layout's names (the connection scripts run in the user's partition).
    let keys: RedisKeys
    let logger: Logger

    package init(
        tokens: TokenService, delivery: MessageDelivery, sender: MessageSender, guidance: GuidanceMessages,
        limits: GatewayLimits, keys: RedisKeys, logger: Logger
    ) {
        self.keys = keys
        self.tokens = tokens
        self.delivery = delivery
        self.sender = sender
        self.guidance = guidance
        self.limits = limits
        self.logger = logger
    }

    /// The user holds `socketsPerUser` live sockets already: dropped, no close frame.
    struct TooManySockets: Error {}

    private static let live = Gauge(label: "chat_ws_connections")
    private static let refused = Counter(label: "chat_ws_refused_total")
    private static let overSocketLimit = Counter(label: "chat_ws_sockets_refused_total")
    private static let avatarNotices = Counter(label: "chat_ws_avatar_notices_total")

    var connections: ConnectionTable { delivery.connections }
    var scripts: RedisScripts { delivery.scripts }
    var node: String { delivery.node }

    /// Serves an upgraded channel until it is open (or refused); returns then. No task
    /// waits for the close: a task keeps its allocator's slabs until it ends (measured:
    /// docs/benchmarks.md, *Gateway*). Its release runs as background work once it has
    /// closed; `GatewayDrain` holds a graceful shutdown until every one has started.
    /// Called on the channel's event loop as task executor (`GatewayChannel.handle`).
    func serve(_ channel: any Channel, request: HTTPRequestHead) async {
        guard let connection = await open(channel, request: request) else { return }
        let background = delivery.background
        channel.closeFuture.whenComplete { _ in
            background.submit { await self.release(connection) }
        }
    }

    /// Authenticates and registers the connection, then sends what a new connection
    /// gets; nil when it was refused (and has closed).
    private func open(_ channel: any Channel, request: HTTPRequestHead) async -> GatewayConnection? {
        guard let token = Self.token(of: request) else {
            await refuse(channel, .noToken)
            return nil
        }
        guard let claims = await tokens.verify(token) else {
            await refuse(channel, .invalidToken)
            return nil
        }

        let user = claims.id
        let id = connections.nextID()
        let target = DeliveryTarget(node: node, connection: id)
        let delivery = delivery
        let connection = GatewayConnection(
            id: id, user: user, role: claims.role, tokenID: TokenService.tokenID(of: token), channel: channel,
            outboundBytes: limits.outboundBytes
        ) { messages in
            delivery.background.submit { await delivery.redeliver(messages, to: user, excluding: target) }
        }
        // In the table before it is a target, so a delivery routed to it finds it.
        connections.insert(connection)
        let registered: RegisterConnection.Registered
        do {
            registered = try await register(connection, token: token, target: target)
        } catch {
            connections.remove(connection)
            await returnUnwritten(await connection.finish(), of: user)
            if let refusal = error as? Refusal {
                await refuse(channel, refusal)
            } else if error is TooManySockets {
                // A drop, not a refusal frame: the deployed client logs out on a close frame.
                Self.overSocketLimit.increment()
                logger.info("connection over the sockets-per-user limit dropped", metadata: [
                    "user": "\(user)", "limit": "\(limits.socketsPerUser)",
                ])
                channel.close(promise: nil)
            } else {
                // Redis unreachable: drop without a close frame, so the client retries.
                logger.warning("connection not registered", metadata: ["user": "\(user)", "error": "\(error)"])
                channel.close(promise: nil)
            }
            return nil
        }
        connection.markRegistered()
        Self.live.record(connections.count)
        // Send frames may run from now on; each checks that the token is still current.
        channel.pipeline.fireUserInboundEventTriggered(GatewaySessionOpened(sender: .init(user: user, uncheckedToken: token)))

        await delivery.flush(connection, inTurn: true, head: registered.queueHead)
        await greet(connection, registered)
        return connection
    }

    /// After the socket closed: out of the table, what it had not handed to the kernel
    /// back in its offline queue, and no longer the target (if it still is); a newer
    /// target, if any, is then asked to flush what came back.
    private func release(_ connection: GatewayConnection) async {
        connections.remove(connection)
        Self.live.record(connections.count)
        let unwritten = await connection.finish()
        await returnUnwritten(unwritten, of: connection.user)
        let target = DeliveryTarget(node: node, connection: connection.id)
        do {
            _ = try await scripts.run(ReleaseConnection(keys: keys, user: connection.user, target: target))
        } catch {
            // The keys expire by themselves after `targetTTL`.
            logger.warning("connection not released", metadata: ["user": "\(connection.user)", "error": "\(error)"])
        }
        guard !unwritten.isEmpty else { return }
        do {
            try await delivery.requestFlush(for: connection.user)
        } catch {
            logger.warning("flush after a drop not requested", metadata: ["user": "\(connection.user)", "error": "\(error)"])
        }
    }

    private func returnUnwritten(_ unwritten: GatewayConnection.Unwritten, of user: Int) async {
        guard !unwritten.isEmpty else { return }
        await delivery.returnToQueue(front: unwritten.front, back: unwritten.back, of: user)
    }

    /// `lua/online_connect.lua`: checks the token, the account and the user's live
    /// sockets, makes the connection the user's target; kicks a previous login's target.
    /// Returns what the guidance and the avatar notice are built from.
    private func register(
        _ connection: GatewayConnection, token: String, target: DeliveryTarget
    ) async throws -> RegisterConnection.Registered {
        let user = connection.user
        let reply = try await scripts.run(RegisterConnection(
            keys: keys, user: user, token: token, target: target, tokenID: connection.tokenID,
            ttlMilliseconds: delivery.policy.targetTTL.milliseconds, socketLimit: limits.socketsPerUser,
            flushCount: delivery.policy.flushBatch, flushBytes: delivery.policy.flushBatchBytes
        ))
        switch reply {
        case .refused(.token): throw Refusal.invalidToken
        case .refused(.missing): throw Refusal.missingUser
        case .refused(.disabled): throw Refusal.disabled
        case .refused(.sockets): throw TooManySockets()
        case .registered(let registered):
            if let previous = registered.kick {
                await delivery.kick(previous, user: user)
            }
            return registered
        }
    }

    /// The welcome; the avatar notice (when due) through the usual delivery (pushed to the
    /// user's target, which is normally this connection, or queued); then the guidance,
    /// built from the row and the facts `online_connect` read. Without a notice, the
    /// welcome and the guidance leave in one write.
    private func greet(_ connection: GatewayConnection, _ registered: RegisterConnection.Registered) async {
        let allocator = connection.channel.allocator
        var frames = [ServerFrame.welcome(at: WallClock.milliseconds(), allocator: allocator)]
        guard let user = UserRow(hash: registered.row) else {
            connection.send(frames)
            return
        }
        if registered.avatarChanged {
            connection.send(frames)
            frames = []
            Self.avatarNotices.increment()
            do {
                try await delivery.deliver(guidance.avatarNotice(for: user, now: WallClock.milliseconds()), to: connection.user)
            } catch {
                logger.debug("guidance not sent", metadata: ["user": "\(connection.user)", "error": "\(error)"])
                return
            }
        }
        let facts = GuidanceMessages.Facts(inActiveGroup: registered.inActiveGroup, hasActiveFriend: registered.hasActiveFriend)
        let now = WallClock.milliseconds()
        for message in guidance.messages(for: user, role: connection.role, facts: facts, now: now) {
            frames.append(ServerFrame.singleChat(message, at: now, allocator: allocator))
        }
        connection.send(frames)
    }

    private func refuse(_ channel: any Channel, _ refusal: Refusal) async {
        Self.refused.increment()
        channel.closeWebSocket(code: .normalClosure, after: ServerFrame.fail(refusal.rawValue, allocator: channel.allocator))
        try? await channel.closeFuture.get()
    }

    /// `GET /ws?token=…`, read as the HTTP routes read a query (a `token` header also
    /// counts, as on HTTP).
    static func token(of request: HTTPRequestHead) -> String? {
        if let query = URI(request.uri).queryParameters["token"], !query.isEmpty { return String(query) }
        if let header = request.headers.first(name: RequestParameters.tokenHeader.rawName), !header.isEmpty { return header }
        return nil
    }
}
