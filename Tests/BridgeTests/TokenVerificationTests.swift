import Crypto
import Foundation
import Model
import Testing

@testable import ChatGateway

/// The per-request token check (`HS256FastVerifier`) against jwt-kit, the reference: it
/// answers only what jwt-kit would, and leaves every other token to it.
@Suite("Token verification: the fast path agrees with jwt-kit")
struct TokenVerificationTests {
    static let secret = "a-test-secret-that-is-long-enough-for-hs256"

    /// A token with these exact header and claims texts, signed with HMAC-SHA256 and `secret`.
    static func token(header: String, claims: String, secret: String = secret) -> String {
        let input = base64URL(Array(header.utf8)) + "." + base64URL(Array(claims.utf8))
        let code = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return input + "." + base64URL(Array(code))
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static let header = #"{"alg":"HS256","typ":"JWT"}"#

    @Test("every token the service signs is answered by the fast path, with jwt-kit's claims")
    func signedTokens() async throws {
        let forever = await TokenService(secret: Self.secret)
        let expiring = await TokenService(secret: Self.secret, lifetime: .seconds(3600))
        for service in [forever, expiring] {
            for (id, role) in [(1, Role.user), (42, .visitor), (9_007_199_254_740_991, .user)] {
                let token = try await service.sign(userID: id, role: role)
                let quick = try #require(service.verifiedQuickly(token), "\(token)")
                #expect(quick == (await service.verifiedByJWTKit(token)))
                #expect(quick.id == id && quick.role == role)
                #expect(await service.verify(token) == quick)
            }
        }
        // The header jwt-kit signs with is one the fast path takes (its key order changes
        // from one process to the next: both are taken, see `plainClaims`).
        let signed = try await forever.sign(userID: 5, role: .user)
        let headers = HS256FastVerifier.headers.map { Self.base64URL(Array($0.utf8)) + "." }
        #expect(headers.contains { signed.hasPrefix($0) }, "\(signed)")
    }

    @Test("a token changed in any one character gets no fast answer, and the same answer as from jwt-kit")
    func tamperedTokens() async throws {
        let service = await TokenService(secret: Self.secret)
        let token = Array(try await service.sign(userID: 7, role: .user))
        for index in token.indices {
            var changed = token
            changed[index] = changed[index] == "A" ? "B" : "A"
            let text = String(changed)
            #expect(service.verifiedQuickly(text) == nil, "character \(index)")
            #expect(await service.verify(text) == (await service.verifiedByJWTKit(text)), "character \(index)")
        }
        let forged = try await TokenService(secret: "another-secret-that-is-long-enough-for-hs256").sign(userID: 7, role: .user)
        #expect(service.verifiedQuickly(forged) == nil)
        #expect(await service.verify(forged) == nil)
        for garbage in ["", ".", "..", "a.b.c", "eyJ.eyJ.", String(Self.base64URL(Array(Self.header.utf8))) + ".", String(repeating: "x", count: 10_000)] {
            #expect(service.verifiedQuickly(garbage) == nil)
            #expect(await service.verify(garbage) == nil)
        }
    }

    @Test("another header (algorithm, key id, order, none) is left to jwt-kit", arguments: [
        #"{"alg":"HS512","typ":"JWT"}"#, #"{"alg":"none","typ":"JWT"}"#, #"{"typ":"JWT","alg":"none"}"#,
        #"{"alg":"HS256","typ":"JWT","kid":"x"}"#, #"{"alg":"HS256"}"#, #"{"alg": "HS256","typ":"JWT"}"#,
    ])
    func otherHeaders(_ header: String) async throws {
        let service = await TokenService(secret: Self.secret)
        let claims = #"{"id":7,"role":"user","iat":1763700000,"jti":"0123456789abcdef"}"#
        let token = Self.token(header: header, claims: claims)
        #expect(service.verifiedQuickly(token) == nil)
        #expect(await service.verify(token) == (await service.verifiedByJWTKit(token)))
        // Unsigned, as `alg: none` means: refused by both.
        let unsigned = Self.base64URL(Array(header.utf8)) + "." + Self.base64URL(Array(claims.utf8)) + "."
        #expect(service.verifiedQuickly(unsigned) == nil)
        #expect(await service.verify(unsigned) == nil)
    }

    @Test("an expired token: no fast answer, refused; one second before its expiry: answered")
    func expiry() async throws {
        let service = await TokenService(secret: Self.secret, lifetime: .seconds(60))
        let now = Date()
        let token = try await service.sign(userID: 7, role: .user, now: now.addingTimeInterval(-120))
        #expect(service.verifiedQuickly(token) == nil)
        #expect(await service.verify(token) == nil)
        let fresh = try await service.sign(userID: 7, role: .user, now: now)
        let expires = try #require(service.verifiedQuickly(fresh)?.exp?.value)
        #expect(service.verifiedQuickly(fresh, now: expires.addingTimeInterval(-1))?.id == 7)
        #expect(service.verifiedQuickly(fresh, now: expires) == nil)  // jwt-kit: expired at exp itself
    }

    @Test("claims texts the fast path does not take are jwt-kit's to answer", arguments: [
        // answered by jwt-kit: an unknown claim, a float iat, an escape in jti
        #"{"id":7,"role":"user","iat":1763700000,"jti":"ab","admin":true}"#,
        #"{"id":7,"role":"user","iat":1763700000.5,"jti":"ab","exp":null}"#,
        #"{"id":7,"role":"user","iat":1763700000,"jti":"a\u0062"}"#,
        // refused by jwt-kit: id as text, a fraction, a role it does not know, iat missing, not an object
        #"{"id":"7","role":"user","iat":1763700000,"jti":"ab"}"#,
        #"{"id":7.5,"role":"user","iat":1763700000,"jti":"ab"}"#,
        #"{"id":7,"role":"admin","iat":1763700000,"jti":"ab"}"#,
        #"{"id":7,"role":"user","jti":"ab"}"#,
        #"[7]"#,
        // repeated key, leading zero, trailing text
        #"{"id":7,"id":8,"role":"user","iat":1763700000,"jti":"ab"}"#,
        #"{"id":07,"role":"user","iat":1763700000,"jti":"ab"}"#,
        #"{"id":7,"role":"user","iat":1763700000,"jti":"ab"} x"#,
    ])
    func unusualClaims(_ claims: String) async throws {
        let service = await TokenService(secret: Self.secret)
        let token = Self.token(header: Self.header, claims: claims)
        #expect(service.verifiedQuickly(token) == nil)
        #expect(await service.verify(token) == (await service.verifiedByJWTKit(token)))
    }

    @Test("plain claims texts in another order or spacing, under either header order, are answered as jwt-kit answers them")
    func plainClaims() async throws {
        let service = await TokenService(secret: Self.secret)
        for header in HS256FastVerifier.headers {
            let token = Self.token(header: header, claims: #"{"id":12,"role":"user","iat":1763700000,"jti":"ab"}"#)
            let quick = try #require(service.verifiedQuickly(token), "\(header)")
            #expect(quick == (await service.verifiedByJWTKit(token)), "\(header)")
        }
        for claims in [
            #"{"jti":"ab","iat":1763700000,"role":"visitor","id":12}"#,
            #"{ "id" : 12 , "role" : "user" , "iat" : 1.7637e9 , "jti" : "ab" , "exp" : 4102444800 }"#,
            #"{"id":12,"role":"user","iat":1763700000,"jti":"中文"}"#,
        ] {
            let token = Self.token(header: Self.header, claims: claims)
            let quick = try #require(service.verifiedQuickly(token), "\(claims)")
            #expect(quick == (await service.verifiedByJWTKit(token)), "\(claims)")
        }
    }
}
