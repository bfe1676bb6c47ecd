import ChatGateway
import Model
import RedisClient

/// Uploads per user per day (`--uploads-per-day`, docs/operations.md, *Quotas*): a counter
/// per user and day in Redis, shared by every bridge process, that expires after the day.
/// Every upload attempt counts (a refused or cut upload still cost the disk and the
/// network its bytes), and it is counted before the body is read.
struct UploadQuota: Sendable {
    let redis: RedisClient
    /// The layout: the counter is in the user's partition.
    let keys: RedisKeys
    let perDay: Int

    /// The counter outlives its day by one, whatever the hosts' time zones.
    static let lifetimeSeconds = 2 * 86_400

    /// Counts one upload of `user` today; throws `.dailyQuota` beyond the quota.
    func take(user: Int) async throws(UploadRefusal) {
        let key = keys.uploadsOfDay(user, day: UploadNames.day())
        let count: Int64?
        do {
            let replies = try await redis.pipeline([
                RedisCommand("INCR", key), RedisCommand("EXPIRE", key, Self.lifetimeSeconds),
            ])
            count = replies[0].integer
        } catch {
            throw .storageFailed
        }
        guard let count, count <= Int64(perDay) else {
            QuotaRefusals.uploadsPerDay.increment()
            throw .dailyQuota
        }
    }
}
