import Logging
import Model
import RedisClient
import ServiceLifecycle

/// Receives what other processes route to this one on `chat:node:{nodeId}` (envelopes
/// of `NodeEnvelope`): deliveries, kicks and flush requests for its connections. A
/// delivery for a connection that has closed meanwhile is routed again, excluding it.
///
/// The server does not wait for the subscription: what is published before it is
/// confirmed finds no subscriber, and `deliver.lua` queues it offline instead.
package struct NodeChannelListener: Service {
    let subscriber: RedisSubscriber
    let node: String
    let connections: ConnectionTable
    let delivery: MessageDelivery
    let logger: Logger

    package init(subscriber: RedisSubscriber, node: String, connections: ConnectionTable, delivery: MessageDelivery, logger: Logger) {
        self.subscriber = subscriber
        self.node = node
        self.connections = connections
        self.delivery = delivery
        self.logger = logger
    }

    package func run() async throws {
        guard let subscription = await subscribe() else { return }
        for await message in subscription.cancelOnGracefulShutdown() {
            guard let envelope = NodeEnvelope(message.payload) else {
                logger.warning("unreadable node envelope", metadata: ["bytes": "\(message.payload.count)"])
                continue
            }
            handle(envelope)
        }
        subscription.unsubscribe()
    }

    /// Subscribes, retrying while Redis is unreachable (later outages are the
    /// subscriber's own business: it resubscribes by itself); nil on shutdown. First the
    /// process's delivery numbering starts afresh: one left by an earlier process with
    /// this node id would hold every local push (`DeliveryOrder`); what is published
    /// before the subscription finds nobody and gives its number back.
    private func subscribe() async -> RedisSubscription? {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                _ = try await delivery.redis.send("HDEL", RedisKeys.nodeDeliveries, node).throwingOnError()
                return try await subscriber.subscribe(to: [RedisKeys.nodeChannel(node)])
            } catch {
                logger.warning("subscription to the node channel failed, retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        return nil
    }

    func handle(_ envelope: NodeEnvelope) {
        switch envelope {
        case .deliver(let addresses, let message, let sequence):
            for address in addresses {
                if let connection = connections.connection(address.connection, of: address.user) {
                    connection.push(message)
                } else {
                    let gone = DeliveryTarget(node: delivery.node, connection: address.connection)
                    delivery.background.submit { await delivery.redeliver([message], to: address.user, excluding: gone) }
                }
            }
            // After the pushes are issued: what waited for this one follows them.
            if sequence > 0 { delivery.order.handled(sequence) }
        case .kick(let address):
            connections.connection(address.connection, of: address.user)?.kick()
        case .flush(let address):
            if let connection = connections.connection(address.connection, of: address.user) {
                delivery.background.submit { await delivery.flush(connection) }
            }
        }
    }
}
