import ChatGateway
import ChatScripts
import Model
import RedisClient

/// Finishes the group membership changes (and group status changes) between partitions
/// that a crash left half-done (`GroupChangeSteps`): the pending records of a partition's
/// groups whose deadline passed get their members' steps (with the members' state read
/// now) and `finish` run again, each a no-op where it ran before. Run by
/// `PendingStepRepairer`.
package struct GroupChangeRepair: PendingStepRepair {
    let steps: GroupChangeSteps

    package init(scripts: RedisScripts, keys: RedisKeys, streamCap: Int) {
        steps = GroupChangeSteps(scripts: scripts, keys: keys, streamCap: streamCap)
    }

    package var operation: String { "group_change" }

    package func repairExpired(partition: Int, now: Int64, limit: Int) async throws -> Int {
        try await steps.repairExpired(partition: partition, now: now, limit: limit)
    }
}
