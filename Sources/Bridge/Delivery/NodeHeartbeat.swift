import Logging
import Model
import RedisClient
import ServiceLifecycle

/// Proves this process alive (`chat:nodes`) and keeps its connections the delivery
/// targets of their users (`online_{uid}` TTLs), every heartbeat. Without it, after
/// `deadAfter` nobody routes to this process any more: its users' messages are queued.
/// A target Redis lost (a restart without persistence, or this process taken for dead
/// during a stall) is claimed again and its offline queue flushed, so live delivery
/// resumes without the client reconnecting. On graceful shutdown it leaves `chat:nodes`.
struct NodeHeartbeat: Service {
    let delivery: MessageDelivery
    let logger: Logger

    var scripts: RedisScripts { delivery.scripts }
    var connections: ConnectionTable { delivery.connections }
    var node: String { delivery.node }
    var policy: DeliveryPolicy { delivery.policy }

    /// Connections refreshed per script call.
    static let refreshBatch = 256

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await beat()
                try await Task.sleep(for: policy.heartbeat)
            }
        }
        do {
            for reply in try await scripts.client.pipeline([
                RedisCommand("ZREM", RedisKeys.nodes, node), RedisCommand("HDEL", RedisKeys.nodeDeliveries, node),
            ]) {
                try reply.throwingOnError()
            }
        } catch {
            logger.warning("could not leave chat:nodes", metadata: ["error": "\(error)"])
        }
    }

    /// One heartbeat: the node's score, then the TTLs of its users' targets.
    func beat() async {
        do {
            _ = try await scripts.run(
                "node_heartbeat", keys: [RedisKeys.nodes, RedisKeys.nodeDeliveries],
                arguments: [node, String(policy.forgetNodesAfter.milliseconds)]
            ).throwingOnError()
            try await refreshTargets()
        } catch {
            logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
        }
    }

    private func refreshTargets() async throws {
        let ttl = String(policy.deadAfter.milliseconds)
        let all = connections.all.filter(\.isRegistered)
        var start = 0
        while start < all.count {
            let batch = all[start..<min(start + Self.refreshBatch, all.count)]
            start += Self.refreshBatch
            let keys: [any RedisArgument] = batch.flatMap { [RedisKeys.online($0.user), RedisKeys.onlineToken($0.user)] }
            let arguments: [any RedisArgument] = [ttl] + batch.flatMap {
                [DeliveryTarget(node: node, connection: $0.id).description, $0.tokenID]
            }
            let reply = try await scripts.run("online_refresh", keys: keys, arguments: arguments).throwingOnError()
            for (connection, outcome) in zip(batch, reply.array ?? []) where outcome.integer == 2 {
                logger.info("delivery target claimed again", metadata: ["user": "\(connection.user)"])
                Task { await delivery.flush(connection, alreadyTaken: nil) }
            }
        }
    }
}
