import Logging
import Model
import RedisClient
import ServiceLifecycle

/// Receives what other processes route to this one on `chat:node:{nodeId}` (envelopes
/// of `NodeEnvelope`): deliveries, kicks and flush requests for its connections. A
/// delivery for a connection that has closed meanwhile is routed again, excluding it.
struct NodeChannelListener: Service {
    let subscription: RedisSubscription
    let connections: ConnectionTable
    let delivery: MessageDelivery
    let logger: Logger

    func run() async throws {
        for await message in subscription.cancelOnGracefulShutdown() {
            guard let envelope = NodeEnvelope(message.payload) else {
                logger.warning("unreadable node envelope", metadata: ["bytes": "\(message.payload.count)"])
                continue
            }
            handle(envelope)
        }
        subscription.unsubscribe()
    }

    func handle(_ envelope: NodeEnvelope) {
        switch envelope {
        case .deliver(let addresses, let message):
            for address in addresses {
                if let connection = connections.connection(address.connection, of: address.user) {
                    connection.push(message)
                } else {
                    let gone = DeliveryTarget(node: delivery.node, connection: address.connection)
                    Task { await delivery.redeliver([message], to: address.user, excluding: gone) }
                }
            }
        case .kick(let address):
            connections.connection(address.connection, of: address.user)?.kick()
        case .flush(let address):
            if let connection = connections.connection(address.connection, of: address.user) {
                Task { await delivery.flush(connection, alreadyTaken: nil) }
            }
        }
    }
}
