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
    let logger: Logger

    package init(tokens: TokenService, delivery: MessageDelivery, sender: MessageSender, guidance: GuidanceMessages, logger: Logger) {
        self.tokens = tokens
        self.delivery = delivery
        self.sender = sender
        self.guidance = guidance
        self.logger = logger
    }

    private static let live = Gauge(label: "chat_ws_connections")
    private static let refused = Counter(label: "chat_ws_refused_total")

    var connections: ConnectionTable { delivery.connections }
    var scripts: RedisScripts { delivery.scripts }
    var node: String { delivery.node }

    /// Serves an upgraded channel; returns once it has closed and been released.
    func serve(_ channel: any Channel, request: HTTPRequestHead) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(channel.eventLoop)) {
            await serveOnItsLoop(channel, request: request)
        }
    }

    /// The connect-time work runs in a child task that ends once the connection is open:
    /// a task keeps the memory of its deepest moment until it ends, and the serving task
    /// lives as long as the socket (measured: about 8 KiB of each idle connection).
    private func serveOnItsLoop(_ channel: any Channel, request: HTTPRequestHead) async {
        let opened = await withTaskGroup(of: GatewayConnection?.self) { group in
            group.addTask { await self.open(channel, request: request) }
            return await group.next() ?? nil
        }
        guard let connection = opened else { return }
        try? await channel.closeFuture.get()
        await release(connection)
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
            id: id, user: user, role: claims.role, tokenID: claims.jti.value, channel: channel
        ) { messages in
            delivery.background.submit { await delivery.redeliver(messages, to: user, excluding: target) }
        }
        // In the table before it is a target, so a delivery routed to it finds it.
        connections.insert(connection)
        do {
            try await register(connection, token: token, target: target)
        } catch {
            connections.remove(connection)
            await connection.finish()
            if let refusal = error as? Refusal {
                await refuse(channel, refusal)
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

        await delivery.flush(connection, inTurn: true)
        connection.send(ServerFrame.welcome(at: WallClock.milliseconds(), allocator: channel.allocator))
        await sendGuidance(to: connection)
        return connection
    }

    /// After the socket closed: out of the table, no longer the target (if it still is),
    /// and what it could not push routed again.
    private func release(_ connection: GatewayConnection) async {
        connections.remove(connection)
        Self.live.record(connections.count)
        let target = DeliveryTarget(node: node, connection: connection.id)
        do {
            _ = try await scripts.run(ReleaseConnection(user: connection.user, target: target))
        } catch {
            // The key expires by itself after `targetTTL`.
            logger.warning("connection not released", metadata: ["user": "\(connection.user)", "error": "\(error)"])
        }
        await connection.finish()
    }

    /// `lua/online_connect.lua`: checks the token and the account, makes the connection
    /// the user's target; kicks a previous login's target.
    private func register(_ connection: GatewayConnection, token: String, target: DeliveryTarget) async throws {
        let user = connection.user
        let reply = try await scripts.run(RegisterConnection(
            user: user, token: token, target: target, tokenID: connection.tokenID,
            ttlMilliseconds: delivery.policy.targetTTL.milliseconds
        ))
        switch reply {
        case .refused(.token): throw Refusal.invalidToken
        case .refused(.missing): throw Refusal.missingUser
        case .refused(.disabled): throw Refusal.disabled
        case .registered(let kick):
            if let previous = kick {
                await delivery.kick(previous, user: user)
            }
        }
    }

    private func sendGuidance(to connection: GatewayConnection) async {
        do {
            guard let user = try await UserRow(hash: scripts.client.send("HGETALL", RedisKeys.user(connection.user)).fieldValues) else { return }
            let facts = try await GuidanceFacts(redis: scripts.client).facts(of: connection.user)
            let allocator = connection.channel.allocator
            let now = WallClock.milliseconds()
            for message in guidance.messages(for: user, role: connection.role, facts: facts, now: now) {
                connection.send(ServerFrame.singleChat(message, at: now, allocator: allocator))
            }
        } catch {
            logger.debug("guidance not sent", metadata: ["user": "\(connection.user)", "error": "\(error)"])
        }
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
