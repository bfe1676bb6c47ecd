import Logging
import ServiceLifecycle

/// Finishes the friend operations between two partitions that a crash left half-done
/// (`FriendSteps.repair`): every `interval`, each partition's pending records whose
/// deadline passed get their later steps run again. Several bridges may run it at once:
/// every later step is idempotent (an `applied` marker, a pending record that goes once).
/// On the plain layout there are no steps, so no records: each round is one empty read.
package struct SocialRepairService: Service {
    package static let defaultInterval: Duration = .seconds(5)

    let friends: FriendSteps
    let interval: Duration
    var logger = Logger(label: "bridge.social-repair")

    package init(friends: FriendSteps, interval: Duration = defaultInterval) {
        self.friends = friends
        self.interval = interval
    }

    package func run() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let repaired = try await friends.repairAll()
                if repaired > 0 { logger.notice("finished \(repaired) friend operation(s) left between steps") }
            } catch {
                logger.warning("repairing friend operations: \(error)")
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
