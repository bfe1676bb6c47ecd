import Foundation
import JWTKit
import Model

/// The bridge's tokens: HS256 JWTs whose claims are `id`, `role`, `iat` and a random
/// `jti` — nothing secret (**Fix**: the old token carried the whole user row, password
/// hash included). They do not expire by default; revocation is the Redis registry
/// `chat_user_{id}`, which holds only an account's newest token.
package struct TokenService: Sendable {
    package struct Claims: JWTPayload, Equatable {
        package var id: Int
        package var role: Role
        var iat: IssuedAtClaim
        var jti: IDClaim
        var exp: ExpirationClaim?

        package func verify(using algorithm: some JWTAlgorithm) async throws {
            try exp?.verifyNotExpired()
        }
    }

    /// An HS256 key shorter than the hash (32 bytes) is refused by JWTKit; the option
    /// is validated against this at start-up.
    package static let minimumSecretBytes = 32

    private let keys: JWTKeyCollection
    /// The per-request check of the tokens this service signs; jwt-kit decides the rest.
    private let fast: HS256FastVerifier
    private let lifetime: Duration?

    /// - Parameter lifetime: nil for tokens that never expire (the default of docs/api.md).
    package init(secret: String, lifetime: Duration? = nil) async {
        precondition(secret.utf8.count >= Self.minimumSecretBytes, "the JWT secret is validated at start-up")
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.keys = keys
        self.lifetime = lifetime
        fast = HS256FastVerifier(secret: secret)
    }

    package func sign(userID: Int, role: Role, now: Date = Date()) async throws -> String {
        // Whole seconds, as the old server and most JWT tools write `iat` and `exp`.
        let issued = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let claims = Claims(
            id: userID,
            role: role,
            iat: IssuedAtClaim(value: issued),
            jti: IDClaim(value: Self.randomID()),
            exp: lifetime.map { ExpirationClaim(value: issued.addingTimeInterval(Double($0.components.seconds))) }
        )
        return try await keys.sign(claims)
    }

    /// The claims of a token whose signature verifies and which has not expired; nil for
    /// anything else (malformed, wrong signature, expired): one answer, `Token 令牌不合法！`.
    package func verify(_ token: String) async -> Claims? {
        if let claims = verifiedQuickly(token) { return claims }
        return await verifiedByJWTKit(token)
    }

    /// The fast path alone: the claims when it is sure, nil when jwt-kit has to decide.
    package func verifiedQuickly(_ token: String, now: Date = Date()) -> Claims? {
        guard let claims = fast.verify(token, now: now.timeIntervalSince1970) else { return nil }
        return Claims(
            id: claims.id, role: claims.role, iat: IssuedAtClaim(value: Date(timeIntervalSince1970: claims.issuedAt)),
            jti: IDClaim(value: claims.tokenID),
            exp: claims.expires.map { ExpirationClaim(value: Date(timeIntervalSince1970: $0)) }
        )
    }

    /// jwt-kit's answer: the reference, and the path of everything the fast one leaves.
    package func verifiedByJWTKit(_ token: String) async -> Claims? {
        try? await keys.verify(token, as: Claims.self)
    }

    /// What names one token in Redis beside the token registry (`chat:online:token:{id}`,
    /// the heartbeat's check that a connection's token is still current): its signature,
    /// the last segment, unique per token (the claims hold a random `jti`), so a
    /// connection keeps these few bytes rather than the whole token.
    package static func tokenID(of token: String) -> String {
        guard let dot = token.lastIndex(of: ".") else { return token }
        return String(token[token.index(after: dot)...])
    }

    private static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in
            let hex = String(UInt8.random(in: 0...255, using: &generator), radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }
}
