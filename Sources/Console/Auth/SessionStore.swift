import Foundation
import Model
import RedisClient

/// The operators' sessions in Redis: `chat:admin:session:{sha256 hex of the token}`, a
/// hash of `admin`, `csrf`, `created` (ms) that expires after the idle timeout, moved
/// ahead by every request; the absolute end is checked against `created`. A session of
/// an account disabled since is refused (and removed) at its next request.
struct SessionStore: Sendable {
    let redis: RedisClient
    /// The layout's names of the accounts (a session's own key is one name everywhere).
    let keys: RedisKeys
    let idleSeconds: Int
    let maxSeconds: Int

    static func key(ofToken token: String) -> String { RedisKeys.adminSession(RandomToken.sha256Hex(token)) }

    /// A new session for `admin`; returns the cookie's token with it.
    func create(admin: String) async throws -> (token: String, session: AdminSession) {
        let token = RandomToken.make()
        let session = AdminSession(
            key: Self.key(ofToken: token), admin: admin, csrf: RandomToken.make(), created: Self.nowMilliseconds()
        )
        let replies = try await redis.pipeline([
            RedisCommand("HSET", session.key, "admin", admin, "csrf", session.csrf, "created", String(session.created)),
            RedisCommand("EXPIRE", session.key, String(idleSeconds)),
        ])
        for reply in replies { try reply.throwingOnError() }
        return (token, session)
    }

    /// The live session of a cookie's token, its idle timeout renewed; nil when there is none.
    func find(token: String) async throws -> AdminSession? {
        guard RandomToken.isWellFormed(token) else { return nil }
        let key = Self.key(ofToken: token)
        let replies = try await redis.pipeline([
            RedisCommand("HGETALL", key), RedisCommand("EXPIRE", key, String(idleSeconds)),
        ])
        let fields = try replies[0].throwingOnError().fieldValues
        guard let admin = fields["admin"], let csrf = fields["csrf"], let created = fields["created"].flatMap({ Int64($0) }) else {
            return nil
        }
        let account = try await redis.send("HGET", keys.admin(admin), "status").throwingOnError()
        guard created + Int64(maxSeconds) * 1000 > Self.nowMilliseconds(), account.string == "1" else {
            _ = try? await redis.send("DEL", key)
            return nil
        }
        return AdminSession(key: key, admin: admin, csrf: csrf, created: created)
    }

    func destroy(_ session: AdminSession) async throws {
        try await redis.send("DEL", session.key).throwingOnError()
    }

    static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
