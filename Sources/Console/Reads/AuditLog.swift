import Model
import RedisClient

/// The audit page's rows (`LRANGE chat:admin:audit`).
struct AuditLog: Sendable {
    let redis: RedisClient
    /// The layout: the list is the first partition's on a tagged one.
    let keys: RedisKeys

    func list(paging: Paging) async throws -> PageOf<AuditEntry> {
        let reply = try await redis.send(
            "LRANGE", keys.adminAudit, String(paging.offset), String(paging.offset + paging.size)
        ).throwingOnError()
        return PageOf(readAhead: (reply.array ?? []).compactMap { $0.string.flatMap(AuditEntry.init(json:)) }, paging: paging)
    }
}
