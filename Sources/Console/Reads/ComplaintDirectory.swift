import Foundation
import Model
import RedisClient

/// Every complaint newest first, or those of one status (docs/console.md, *Complaints*):
/// `chat:complaints` and `chat:complaints:status:{n}` (score = id), the rows and then
/// their reporters each in one pipeline. On a tagged layout each index is one per
/// partition (a complaint is in its reporter's): the pages are merged as the user
/// directory's, and a row is read in the partition whose index listed it.
struct ComplaintDirectory: Sendable {
    let redis: RedisClient
    let keys: RedisKeys

    func list(status: ComplaintStatus?, paging: Paging) async throws -> PageOf<ComplaintSummary> {
        let indexes = partitions.map { partition in
            status.map { keys.complaints(status: $0.rawValue, partition: partition) } ?? keys.complaints(partition: partition)
        }
        let members = try await MergedIndexes(redis: redis).page(
            indexes, offset: paging.offset, count: paging.size + 1, read: MergedIndexes.reverseRange,
            inOrder: MergedIndexes.newestFirst
        )
        let found = members.compactMap { member in member.value.integer.map { (id: Int($0), partition: member.index) } }
        return PageOf(readAhead: try await rows(found), paging: paging)
    }

    func complaint(_ id: Int) async throws -> ComplaintSummary? {
        guard let partition = try await partition(of: id) else { return nil }
        return try await rows([(id, partition)]).first
    }

    /// The partition that holds complaint `id` (its reporter's), nil when none lists it.
    /// One Redis: partition 0, unread (the script answers `missing` for no such row).
    func partition(of id: Int) async throws -> Int? {
        guard keys.layout.isTagged else { return 0 }
        let scores = try await redis.pipeline(partitions.map { RedisCommand("ZSCORE", keys.complaints(partition: $0), String(id)) })
        for (partition, score) in scores.enumerated() where try !score.throwingOnError().isNull {
            return partition
        }
        return nil
    }

    private var partitions: Range<Int> { 0..<keys.layout.partitions }

    private func rows(_ found: [(id: Int, partition: Int)]) async throws -> [ComplaintSummary] {
        let replies = try await redis.pipeline(found.map {
            RedisCommand.texts("HMGET", [keys.complaint($0.id, partition: $0.partition)] + ComplaintSummary.fields)
        })
        var rows = replies.compactMap { ComplaintSummary(values: ($0.array ?? []).map(\.string)) }
        let reporters = try await redis.pipeline(rows.map { RedisCommand("HMGET", keys.user($0.userID), "username", "nickname") })
        for index in rows.indices {
            let names = reporters[index].array ?? []
            rows[index].reporterName = names.first?.string ?? ""
            rows[index].reporterNickname = names.count > 1 ? names[1].string ?? "" : ""
        }
        return rows
    }
}
