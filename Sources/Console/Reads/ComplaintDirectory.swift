import Foundation
import Model
import RedisClient

/// Every complaint newest first, or those of one status (docs/console.md, *Complaints*):
/// `chat:complaints` and `chat:complaints:status:{n}` (score = id), the rows and then
/// their reporters each in one pipeline.
struct ComplaintDirectory: Sendable {
    let redis: RedisClient

    func list(status: ComplaintStatus?, paging: Paging) async throws -> PageOf<ComplaintSummary> {
        let index = status.map { RedisKeys.complaints(status: $0.rawValue) } ?? RedisKeys.complaints
        let ids = try await redis.send(
            "ZREVRANGE", index, String(paging.offset), String(paging.offset + paging.size)
        ).throwingOnError().ids
        return PageOf(readAhead: try await rows(ids), paging: paging)
    }

    func complaint(_ id: Int) async throws -> ComplaintSummary? {
        try await rows([id]).first
    }

    private func rows(_ ids: [Int]) async throws -> [ComplaintSummary] {
        let replies = try await redis.pipeline(ids.map { RedisCommand.texts("HMGET", [RedisKeys.complaint($0)] + ComplaintSummary.fields) })
        var rows = replies.compactMap { ComplaintSummary(values: ($0.array ?? []).map(\.string)) }
        let reporters = try await redis.pipeline(rows.map { RedisCommand("HMGET", RedisKeys.user($0.userID), "username", "nickname") })
        for index in rows.indices {
            let names = reporters[index].array ?? []
            rows[index].reporterName = names.first?.string ?? ""
            rows[index].reporterNickname = names.count > 1 ? names[1].string ?? "" : ""
        }
        return rows
    }
}
