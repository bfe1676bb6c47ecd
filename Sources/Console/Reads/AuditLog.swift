import Model
import RedisClient

/// The audit page's rows (`LRANGE chat:admin:audit`).
struct AuditLog: Sendable {
    static let key = RedisKeys.adminAudit
    let redis: RedisClient

    func list(paging: Paging) async throws -> PageOf<AuditEntry> {
        let reply = try await redis.send(
            "LRANGE", Self.key, String(paging.offset), String(paging.offset + paging.size)
        ).throwingOnError()
        return PageOf(readAhead: (reply.array ?? []).compactMap { $0.string.flatMap(AuditEntry.init(json:)) }, paging: paging)
    }
}
