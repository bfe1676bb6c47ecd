import ChatScripts
import Logging
import Metrics
import Model
import RedisClient
import ServiceLifecycle

/// Reads what other processes route to this one from its stream `chat:node:{nodeId}`
/// (entries of `NodeEnvelope`): deliveries, kicks and flush requests for its connections
/// (docs/architecture.md, *Delivery*).
///
/// It reads with `XREAD BLOCK` on a connection of its own (`reader`), always after the
/// last entry it handled, and trims what it handled with the next read: a connection
/// Redis kills, a network blip or a Redis restart (with persistence) resumes where it
/// stopped, with no gap and no entry twice. A delivery for a connection that has closed
/// meanwhile is routed again, excluding it. Entries another process left (an earlier
/// process with this node id, claimed at start; a dead one's, reaped by the heartbeat)
/// address that process's connections: their deliveries are routed again, excluding the
/// old target, so they reach a newer connection or the offline queue.
///
/// On a partitioned layout a process has a stream in every partition
/// (`chat:node:{nodeId}{p3}`: what a script run in that partition routes to it), and reads
/// each with a reader of its own: a blocked `XREAD` ties its connection, and one `XREAD`
/// cannot name streams of two slots. So a partition's deliveries wake their reader at
/// once, as on one Redis, for one idle read per partition a second (docs/architecture.md,
/// *Delivery*). Each partition is claimed, read, trimmed and numbered on its own.
package struct NodeStreamListener: Service {
    /// One client per partition, in partition order, each its own connection(s): a
    /// blocked `XREAD` holds one.
    let readers: [RedisClient]
    let delivery: MessageDelivery
    let logger: Logger

    /// Entries read per round trip at most.
    static let batch = 256
    /// How long one `XREAD` waits for entries (ms): also how long shutdown may wait for it.
    static let blockMilliseconds = 1000

    static let readFailures = Counter(label: "chat_node_stream_read_failures_total")
    static let rerouted = Counter(label: "chat_node_stream_rerouted_total")
    static let unrouted = Counter(label: "chat_node_stream_unrouted_total")

    /// - Parameter readers: one per partition of `delivery.keys` (one on one Redis).
    package init(readers: [RedisClient], delivery: MessageDelivery, logger: Logger) {
        precondition(readers.count == delivery.keys.layout.partitions, "one reader per partition")
        self.readers = readers
        self.delivery = delivery
        self.logger = logger
    }

    /// The reader's configuration: one connection, whose command timeout covers a blocked read.
    package static func readerConfiguration(_ configuration: RedisConfiguration) -> RedisConfiguration {
        var configuration = configuration
        configuration.poolSize = 1
        configuration.commandTimeout = configuration.commandTimeout + .milliseconds(Int64(blockMilliseconds))
        return configuration
    }

    func stream(partition: Int) -> String { delivery.keys.nodeStream(delivery.node, partition: partition) }

    package func run() async throws {
        if readers.count == 1 { return await read(partition: 0) }
        await withTaskGroup(of: Void.self) { group in
            for partition in readers.indices {
                group.addTask { await read(partition: partition) }
            }
        }
    }

    /// Claims and reads this process's stream in one partition until shutdown.
    private func read(partition: Int) async {
        let reader = readers[partition]
        let stream = stream(partition: partition)
        guard let claimed = await claim(partition: partition) else { return }
        var last = StreamEntryID.zero
        var trimPending = false
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                var commands: [RedisCommand] = []
                if trimPending { commands.append(trim(stream, through: last)) }
                commands.append(RedisCommand(
                    "XREAD", "COUNT", Self.batch, "BLOCK", Self.blockMilliseconds, "STREAMS", stream, last.description
                ))
                let replies = try await reader.pipeline(commands)
                if trimPending, replies.first?.errorMessage == nil { trimPending = false }
                for entry in try Self.entries(try replies[replies.count - 1].throwingOnError()) {
                    await handle(entry, claimed: claimed, partition: partition)
                    last = entry.id
                    trimPending = true
                }
            } catch {
                Self.readFailures.increment()
                logger.warning("reading the node stream failed, retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        if trimPending { _ = try? await reader.send(trim(stream, through: last)) }
    }

    /// Removes the entries up to `last`, handled.
    private func trim(_ stream: String, through last: StreamEntryID) -> RedisCommand {
        RedisCommand("XTRIM", stream, "MINID", last.successor.description)
    }

    /// Takes over what an earlier process with this node id left and starts the delivery
    /// numbering afresh (`lua/node_claim.lua`), retrying while Redis is unreachable; nil
    /// on shutdown. Returns the newest entry taken over.
    private func claim(partition: Int) async -> StreamEntryID? {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                let newest = try await delivery.scripts.run(
                    ClaimNodeStream(keys: delivery.keys, partition: partition, node: delivery.node)
                )
                guard let id = StreamEntryID(newest) else { throw RedisError.server("node_claim: bad id \(newest)") }
                return id
            } catch {
                logger.warning("claiming the node stream failed, retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        return nil
    }

    struct Entry {
        let id: StreamEntryID
        let envelope: NodeEnvelope?
        /// The process whose connections the entry addresses, when it is not this one.
        let from: String?
    }

    /// The entries of an `XREAD` reply (nil: none came within the block time).
    static func entries(_ reply: RedisReply) throws(RedisError) -> [Entry] {
        if reply.isNull { return [] }
        guard let streams = reply.array, let first = streams.first?.array, first.count == 2, let items = first[1].array else {
            throw .server("XREAD: unexpected reply \(reply)")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(items.count)
        for item in items {
            guard let pair = item.array, pair.count == 2, let text = pair[0].string, let id = StreamEntryID(text),
                  let fields = pair[1].array
            else { throw .server("XREAD: unexpected entry \(item)") }
            var envelope: NodeEnvelope?
            var from: String?
            var index = 0
            while index + 1 < fields.count {
                switch fields[index].string {
                case "e": envelope = fields[index + 1].bytes.flatMap(NodeEnvelope.init)
                case "from": from = fields[index + 1].string
                default: break
                }
                index += 2
            }
            entries.append(Entry(id: id, envelope: envelope, from: from))
        }
        return entries
    }

    func handle(_ entry: Entry, claimed: StreamEntryID, partition: Int = 0) async {
        guard let envelope = entry.envelope else {
            logger.warning("unreadable node stream entry", metadata: ["id": "\(entry.id)"])
            return
        }
        if let from = entry.from ?? (entry.id <= claimed ? delivery.node : nil) {
            await reroute(envelope, leftBy: from)
        } else {
            await handle(envelope, partition: partition)
        }
    }

    func handle(_ envelope: NodeEnvelope, partition: Int = 0) async {
        let connections = delivery.connections
        switch envelope {
        case .deliver(let addresses, let message, let sequence):
            for address in addresses {
                if let connection = connections.connection(address.connection, of: address.user) {
                    connection.push(message)
                } else {
                    await route(message, to: address.user, excluding: DeliveryTarget(node: delivery.node, connection: address.connection))
                }
            }
            // After the pushes are issued: what waited for this one follows them.
            if sequence > 0 { delivery.order.handled(sequence, partition: partition) }
        case .kick(let address):
            connections.connection(address.connection, of: address.user)?.kick()
        case .flush(let address):
            if let connection = connections.connection(address.connection, of: address.user) {
                delivery.background.submit { await delivery.flush(connection) }
            }
        }
    }

    /// An entry meant for the connections of `process` (gone, or this node's earlier
    /// process): its deliveries are routed again; kicks and flushes had their connections
    /// die with it.
    private func reroute(_ envelope: NodeEnvelope, leftBy process: String) async {
        guard case .deliver(let addresses, let message, _) = envelope else { return }
        for address in addresses {
            Self.rerouted.increment()
            await route(message, to: address.user, excluding: DeliveryTarget(node: process, connection: address.connection))
        }
    }

    /// Routes a message again before its entry is trimmed, retrying a few times while
    /// Redis is unreachable (the reader's own reads fail then too).
    private func route(_ message: [UInt8], to user: Int, excluding gone: DeliveryTarget) async {
        for attempt in 1...5 {
            do {
                try await delivery.deliver(message, to: user, excluding: gone)
                return
            } catch {
                logger.warning("a message could not be routed again", metadata: [
                    "user": "\(user)", "attempt": "\(attempt)", "error": "\(error)",
                ])
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
        Self.unrouted.increment()
        logger.error("a message could not be routed again: dropped", metadata: ["user": "\(user)"])
    }
}
