import ChatScripts
import Logging
import Metrics
import Model
import RedisClient

/// Delivers message objects to users, wherever their connection is (docs/api.md,
/// *Delivery*): the internal service chat messages and notices go through.
///
/// `lua/deliver.lua` decides atomically: a target on this process is pushed here; one
/// on another process gets the message through that process's stream only; otherwise
/// the message is queued in `chat_getmessage_{uid}`. A target that turns out to be gone
/// is excluded and the message routed again, so it ends up queued rather than lost.
package struct MessageDelivery: Sendable {
    let scripts: RedisScripts
    /// The names of the keys in the deployment's layout: a user's delivery runs in the
    /// user's partition.
    package let keys: RedisKeys
    package let connections: ConnectionTable
    let node: String
    let policy: DeliveryPolicy
    let logger: Logger
    /// Shared by every copy: the listener advances it, local pushes wait on it.
    let order: DeliveryOrder
    /// Where redeliveries, flushes and held pushes run (a service of the bridge's group).
    package let background: BackgroundWork
    /// Sends accepted since the last heartbeat (shared by every copy): the sender counts,
    /// the heartbeat takes them to Redis.
    package let acceptedSends = AcceptedSends()

    /// - Parameter background: the work a service group runs; by default none does, and
    ///   each job runs in a task of its own (a delivery built by a test).
    package init(
        scripts: RedisScripts, keys: RedisKeys = .plain, connections: ConnectionTable, node: String, policy: DeliveryPolicy,
        logger: Logger, background: BackgroundWork
    ) {
        self.scripts = scripts
        self.keys = keys
        self.connections = connections
        self.node = node
        self.policy = policy
        self.logger = logger
        self.background = background
        order = DeliveryOrder(partitions: keys.layout.partitions, background: background)
    }

    static let outcomes = (
        pushed: Counter(label: "chat_deliveries_total", dimensions: [("outcome", "pushed")]),
        routed: Counter(label: "chat_deliveries_total", dimensions: [("outcome", "routed")]),
        queued: Counter(label: "chat_deliveries_total", dimensions: [("outcome", "queued")])
    )
    static let droppedByCap = Counter(label: "chat_offline_queue_dropped_total")

    var redis: RedisClient { scripts.client }

    /// Delivers one message object (its JSON bytes) to a user; returns the route taken.
    @discardableResult
    package func deliver(_ message: [UInt8], to user: Int) async throws -> DeliveryRoute {
        try await deliver(message, to: user, excluding: nil)
    }

    /// Routes a message again after `excluded` turned out to be gone.
    @discardableResult
    func deliver(_ message: [UInt8], to user: Int, excluding excluded: DeliveryTarget?) async throws -> DeliveryRoute {
        var excluded = excluded
        while true {
            let route = try await scripts.run(DeliverMessage(
                keys: keys, user: user, message: message, node: node, deadAfterMilliseconds: policy.deadAfter.milliseconds,
                queueCap: policy.offlineQueueCap, queueByteCap: policy.offlineQueueByteCap, excluded: excluded
            ))
            if complete(route, message: message, to: user) { return route }
            // Registered here but already closed: its release has not run yet.
            if case .local(let id, _) = route { excluded = DeliveryTarget(node: node, connection: id) }
        }
    }

    /// Carries out a route a script chose: a local connection gets the push; every route
    /// is counted, and drops by the queue cap logged. False when the local connection has
    /// closed already (its release has not run yet): the caller routes the message again.
    func complete(_ route: DeliveryRoute, message: [UInt8], to user: Int) -> Bool {
        switch route {
        case .local(let id, let after):
            guard let connection = connections.connection(id, of: user) else { return false }
            order.push(message, to: connection, after: after, partition: keys.layout.partition(ofUser: user))
            Self.outcomes.pushed.increment()
        case .routed:
            Self.outcomes.routed.increment()
        case .queued(let dropped):
            Self.outcomes.queued.increment()
            if dropped > 0 {
                Self.droppedByCap.increment(by: dropped)
                logger.warning("offline queue cap reached: oldest messages dropped", metadata: [
                    "user": "\(user)", "dropped": "\(dropped)", "cap": "\(policy.offlineQueueCap)",
                    "byte_cap": "\(policy.offlineQueueByteCap)",
                ])
            }
        }
        return true
    }

    /// Completes a route chosen by a send script; a local connection found closed gets
    /// the message routed again (to a newer connection, or the queue) in the background.
    func complete(_ route: DeliveryRoute, sent message: [UInt8], to user: Int) {
        guard !complete(route, message: message, to: user), case .local(let id, _) = route else { return }
        let gone = DeliveryTarget(node: node, connection: id)
        background.submit { await redeliver([message], to: user, excluding: gone) }
    }

    /// Routes messages a closed connection could not push, in order.
    func redeliver(_ messages: [[UInt8]], to user: Int, excluding gone: DeliveryTarget) async {
        for message in messages {
            do {
                try await deliver(message, to: user, excluding: gone)
            } catch {
                logger.error("a message could not be routed again", metadata: ["user": "\(user)", "error": "\(error)"])
            }
        }
    }

    /// Kicks a user's previous target, on whichever process holds it.
    func kick(_ target: DeliveryTarget, user: Int) async {
        if target.node == node {
            connections.connection(target.connection, of: user)?.kick()
            return
        }
        do {
            try await send(.kick(ConnectionAddress(user: user, connection: target.connection)), to: target.node, user: user)
        } catch {
            logger.warning("kick not sent", metadata: ["target": "\(target)", "error": "\(error)"])
        }
    }

    // MARK: The offline queue

    /// `chatGetmessageOffLine`: the user's target, wherever it is, flushes its queue.
    /// Returns once a target on this process has flushed; a remote one is asked to.
    package func requestFlush(for user: Int) async throws {
        try await requestFlush(for: user, target: try await redis.send("GET", keys.online(user)).string)
    }

    /// The same, with the user's delivery target already read (`online_{uid}`'s value).
    package func requestFlush(for user: Int, target value: String?) async throws {
        guard let value, let target = DeliveryTarget(value) else { return }
        if target.node == node {
            if let connection = connections.connection(target.connection, of: user) {
                await flush(connection)
            }
        } else {
            try await send(.flush(ConnectionAddress(user: user, connection: target.connection)), to: target.node, user: user)
        }
    }

    /// Sends a kick or a flush request about a connection of `user` to another process's
    /// stream in the user's partition, if the process is alive (deliveries go through
    /// `deliver.lua`, which sends them itself).
    private func send(_ envelope: NodeEnvelope, to node: String, user: Int) async throws {
        _ = try await scripts.run(SendToNode(
            keys: keys, partition: keys.layout.partition(ofUser: user), node: node,
            deadAfterMilliseconds: policy.deadAfter.milliseconds, envelope: envelope
        ))
    }

    /// Pushes a connection's offline queue, each message once and in order. `inTurn`: the
    /// connection is in its first flush turn already (a new connection); otherwise the
    /// turn is asked for, or joined if one is under way. `head`: the queue's head read
    /// already (by `online_connect`, for a new connection).
    ///
    /// The queue is read without removing anything (`lua/offline_read.lua`), written, and
    /// then exactly the entries handed to the kernel are removed (`lua/offline_ack.lua`):
    /// a connection lost during the flush leaves the rest queued for the next one.
    func flush(_ connection: GatewayConnection, inTurn: Bool = false, head: ReadOfflineQueue.Reply? = nil) async {
        if !inTurn {
            switch await connection.beginFlush() {
            case .mine: break
            case .joined(let done):
                try? await done.get()
                return
            case .closed: return
            }
        }
        var head = head
        repeat {
            while await flushBatch(to: connection, read: head) { head = nil }
            head = nil
        } while await connection.endFlush()
    }

    /// Writes the head of the queue (`read` when it has been read already) and removes
    /// what was written; true while there may be more to flush.
    private func flushBatch(to connection: GatewayConnection, read given: ReadOfflineQueue.Reply?) async -> Bool {
        let user = connection.user
        let read: ReadOfflineQueue.Reply
        if let head = given {
            read = head
        } else {
            do {
                read = try await scripts.run(ReadOfflineQueue(keys: keys, user: user, count: policy.flushBatch, bytes: policy.flushBatchBytes))
            } catch {
                logger.warning("offline queue not read", metadata: ["user": "\(user)", "error": "\(error)"])
                return false
            }
        }
        if read.isEmpty { return false }
        let messages = read.messages.compactMap(\.self)
        let written = messages.isEmpty ? 0 : await connection.writeFlushed(messages)
        // The entries up to the last message written (with any gone bodies among them),
        // or all of them when every message was written.
        var entries = 0
        var counted = 0
        while entries < read.messages.count, counted < written || read.messages[entries] == nil {
            if read.messages[entries] != nil { counted += 1 }
            entries += 1
        }
        if entries == 0 { return false }
        let removed: Int
        do {
            removed = try await scripts.run(AcknowledgeOfflineQueue(keys: keys, user: user, fingerprints: read.fingerprints[..<entries]))
        } catch {
            // Left queued: the next flush writes them again rather than losing them.
            logger.warning("flushed messages not removed from the offline queue", metadata: [
                "user": "\(user)", "count": "\(entries)", "error": "\(error)",
            ])
            return false
        }
        // Nothing removed: another flush of this user removed them first (it goes on), or
        // the head changed under this one; reading it again would write them twice.
        return removed > 0 && entries == read.messages.count
    }
}
