import ChatScripts
import Logging
import Metrics
import Model
import RedisClient
import ServiceLifecycle

/// Proves this process alive (`chat:nodes`) and keeps its connections the delivery
/// targets of their users (`online_{uid}` TTLs), every heartbeat. Without it, after
/// `deadAfter` nobody routes to this process any more: its users' messages are queued.
/// A target Redis lost (a restart without persistence, or this process taken for dead
/// during a stall) is claimed again and its offline queue flushed, so live delivery
/// resumes without the client reconnecting. A connection whose token is no longer the
/// account's current one, or whose account is disabled, is kicked (`force_logout`, then a
/// close frame). Each heartbeat also reaps the streams of
/// dead processes into this one's (`lua/node_heartbeat.lua`), for the listener to route
/// their deliveries again, and records the dashboard's figures: this process's sockets,
/// their distinct users and the sends accepted since the last beat (docs/console.md).
/// On graceful shutdown it leaves `chat:nodes`, or stays there
/// as dead while its stream holds entries, for a live process to reap.
package struct NodeHeartbeat: Service {
    let delivery: MessageDelivery
    let logger: Logger

    package init(delivery: MessageDelivery, logger: Logger) {
        self.delivery = delivery
        self.logger = logger
    }

    var scripts: RedisScripts { delivery.scripts }
    var keys: RedisKeys { delivery.keys }
    var connections: ConnectionTable { delivery.connections }
    var node: String { delivery.node }
    var policy: DeliveryPolicy { delivery.policy }

    static let reaped = Counter(label: "chat_node_stream_reaped_total")
    /// What this process's stream holds at a heartbeat: near 0 unless its listener is behind.
    static let backlog = Gauge(label: "chat_node_stream_backlog")

    /// Connections refreshed per script call.
    static let refreshBatch = 256

    package func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await beat()
                try await Task.sleep(for: policy.heartbeat)
            }
        }
        for partition in 0..<delivery.keys.layout.partitions {
            do {
                if try await !scripts.run(LeaveNodes(keys: delivery.keys, partition: partition, node: node)) {
                    logger.info("left entries in the node stream, for a live process to reap", metadata: [
                        "partition": "\(partition)",
                    ])
                }
            } catch {
                logger.warning("could not leave chat:nodes", metadata: ["partition": "\(partition)", "error": "\(error)"])
            }
        }
    }

    /// One heartbeat: the node's score and the dashboard's figures, then the TTLs of its
    /// users' targets.
    func beat() async {
        let live = connections.all
        var users = Set<Int>()
        users.reserveCapacity(live.count)
        for connection in live { users.insert(connection.user) }
        let sends = delivery.acceptedSends.take()
        guard let beat = await beatEveryPartition(sockets: live.count, users: users.count, sends: sends) else { return }
        Self.backlog.record(beat.backlog)
        if beat.reaped > 0 {
            Self.reaped.increment(by: beat.reaped)
            logger.info("reaped deliveries left by dead processes", metadata: ["entries": "\(beat.reaped)"])
        }
        do {
            try await refreshTargets(live)
        } catch {
            logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
        }
    }

    /// `node_heartbeat` in every partition (one run each, side by side: on a cluster they
    /// go to their partitions' primaries), partition 0's with the dashboard's figures.
    /// Returns the reaped entries and the backlog summed, or nil when partition 0's beat
    /// failed (its figures are counted again at the next beat; a reply lost after the
    /// script ran counts them twice, which a dashboard can bear). A failure in another
    /// partition is logged: that partition sees the process alive again at the next beat.
    private func beatEveryPartition(sockets: Int, users: Int, sends: Int) async -> RecordHeartbeat.Reply? {
        let results = await withTaskGroup(of: (Int, Result<RecordHeartbeat.Reply, any Error>).self) { group in
            for partition in 0..<keys.layout.partitions {
                let call = RecordHeartbeat(
                    keys: keys, partition: partition, node: node, pruneAfterMilliseconds: policy.forgetNodesAfter.milliseconds,
                    reapAfterMilliseconds: policy.reapAfter.milliseconds, reapBatch: policy.reapBatch,
                    sockets: sockets, users: users, messages: partition == 0 ? sends : 0
                )
                group.addTask { [scripts] in
                    do { return (partition, .success(try await scripts.run(call))) } catch { return (partition, .failure(error)) }
                }
            }
            var results: [(Int, Result<RecordHeartbeat.Reply, any Error>)] = []
            for await result in group { results.append(result) }
            return results
        }
        var total = RecordHeartbeat.Reply(registered: 0, reaped: 0, backlog: 0)
        var figuresRecorded = false
        for (partition, result) in results {
            switch result {
            case .success(let beat):
                if partition == 0 {
                    figuresRecorded = true
                    total.registered = beat.registered
                }
                total.reaped += beat.reaped
                total.backlog += beat.backlog
            case .failure(let error):
                logger.warning("heartbeat failed", metadata: ["partition": "\(partition)", "error": "\(error)"])
            }
        }
        guard figuresRecorded else {
            delivery.acceptedSends.giveBack(sends)
            return nil
        }
        return total
    }

    private func refreshTargets(_ live: [GatewayConnection]) async throws {
        // One run per partition (a tagged layout): each script run on one slot.
        let registered = live.filter(\.isRegistered)
        let partitions = keys.layout.isTagged
            ? Dictionary(grouping: registered) { keys.layout.partition(ofUser: $0.user) }.sorted { $0.key < $1.key }.map(\.value)
            : [registered]
        for all in partitions { try await refresh(all) }
    }

    private func refresh(_ all: [GatewayConnection]) async throws {
        var start = 0
        while start < all.count {
            let batch = all[start..<min(start + Self.refreshBatch, all.count)]
            start += Self.refreshBatch
            let outcomes = try await scripts.run(RefreshConnections(
                keys: keys, connections: batch.map {
                    .init(user: $0.user, target: DeliveryTarget(node: node, connection: $0.id), tokenID: $0.tokenID)
                },
                ttlMilliseconds: policy.targetTTL.milliseconds
            ))
            for (connection, outcome) in zip(batch, outcomes) {
                switch outcome {
                case .claimedAgain:
                    logger.info("delivery target claimed again", metadata: ["user": "\(connection.user)"])
                    delivery.background.submit { await delivery.flush(connection) }
                case .revoked:
                    // Logged out, logged in elsewhere, a new password, disabled: a revocation
                    // this process missed, or an operator's `HSET … status 0`.
                    logger.info("connection revoked at the heartbeat: kicked", metadata: ["user": "\(connection.user)"])
                    SessionRevoker.count(.heartbeat, 1)
                    connection.kick()
                case .refreshed, .notTarget:
                    break
                }
            }
        }
    }
}
