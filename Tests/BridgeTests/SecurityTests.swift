import Foundation
import Model
import Testing
import TestSupport

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

@Suite("Passwords, tokens and visitor signatures", .offCooperativePool)
struct SecurityTests {
    let hasher = PasswordHasher(cost: 4)  // the cheapest cost: the same code path, fast tests

    @Test("bcrypt: a new hash is $2b$, salted, and verifies only the right password")
    func bcryptRoundTrip() {
        let first = hasher.hash("secret-123")
        let second = hasher.hash("secret-123")
        #expect(first.hasPrefix("$2b$04$") && first.count == 60)
        #expect(first != second)  // salted
        #expect(hasher.verify("secret-123", against: first) == .valid(needsRehash: false))
        #expect(hasher.verify("secret-124", against: first) == .invalid)
        #expect(hasher.verify("", against: first) == .invalid)
    }

    @Test("a weaker bcrypt cost than configured asks for a rehash")
    func weakerCostIsUpgraded() {
        let weak = hasher.hash("pw-pw-pw")
        #expect(PasswordHasher(cost: 5).verify("pw-pw-pw", against: weak) == .valid(needsRehash: true))
    }

    @Test("a legacy unsalted SHA-256 (64 hex digits) is accepted once and marked for rehash")
    func legacySHA256() {
        // sha256("123456"), as an old eggjs database stores it (computed with Python's hashlib).
        let legacy = "8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92"
        #expect(PasswordHasher.isLegacySHA256(legacy))
        #expect(hasher.verify("123456", against: legacy) == .valid(needsRehash: true))
        #expect(hasher.verify("123456", against: legacy.uppercased()) == .valid(needsRehash: true))
        #expect(hasher.verify("1234567", against: legacy) == .invalid)
    }

    @Test("anything else stored is refused, never crashes", arguments: ["", "plain", "$2b$", "$2b$99$x", "*0", String(repeating: "z", count: 64)])
    func garbageHashes(_ stored: String) {
        #expect(hasher.verify("whatever", against: stored) == .invalid)
    }

    @Test("tokens carry id, role, iat and a random jti, nothing else")
    func tokenClaims() async throws {
        let tokens = await TokenService(secret: "a-test-secret-that-is-long-enough-for-hs256")
        let now = Date(timeIntervalSince1970: 1_763_700_000)
        let first = try await tokens.sign(userID: 42, role: .visitor, now: now)
        let second = try await tokens.sign(userID: 42, role: .visitor, now: now)
        #expect(first != second)  // same second, different jti

        let claims = try #require(await tokens.verify(first))
        #expect(claims.id == 42 && claims.role == .visitor)
        #expect(claims.iat.value == now)
        #expect(claims.exp == nil)

        let payload = try #require(first.split(separator: ".").dropFirst().first)
        let json = try #require(Data(base64URLEncoded: String(payload)))
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(Set(object.keys) == ["id", "role", "iat", "jti"])
    }

    @Test("iat is a whole number of seconds, as the old server and most JWT tools write it")
    func wholeSecondIssuedAt() async throws {
        let tokens = await TokenService(secret: "a-test-secret-that-is-long-enough-for-hs256")
        let token = try await tokens.sign(userID: 42, role: .user, now: Date(timeIntervalSince1970: 1_763_700_000.875))
        let payload = try #require(token.split(separator: ".").dropFirst().first)
        let json = String(decoding: try #require(Data(base64URLEncoded: String(payload))), as: UTF8.self)
        // the integer itself in the JSON text: no fraction, no exponent
        #expect(json.contains(#""iat":1763700000,"#) || json.hasSuffix(#""iat":1763700000}"#), "\(json)")
        let claims = try #require(await tokens.verify(token))
        #expect(claims.iat.value == Date(timeIntervalSince1970: 1_763_700_000))
    }

    @Test("a token that does not verify is refused, whatever is wrong with it")
    func badTokens() async throws {
        let tokens = await TokenService(secret: "a-test-secret-that-is-long-enough-for-hs256")
        let other = await TokenService(secret: "another-secret-that-is-long-enough-for-hs256")
        let valid = try await tokens.sign(userID: 7, role: .user)
        let forged = try await other.sign(userID: 7, role: .user)
        var tampered = Array(valid)
        tampered[tampered.count / 2] = tampered[tampered.count / 2] == "A" ? "B" : "A"
        for token in [forged, String(tampered), "", "abc", "a.b.c", "eyJ.eyJ.", String(repeating: "x", count: 10_000)] {
            #expect(await tokens.verify(token) == nil, "\(token.prefix(40)) verified")
        }
        let expiring = await TokenService(secret: "a-test-secret-that-is-long-enough-for-hs256", lifetime: .seconds(60))
        let old = try await expiring.sign(userID: 7, role: .user, now: Date().addingTimeInterval(-120))
        #expect(await expiring.verify(old) == nil)
        #expect(await expiring.verify(try await expiring.sign(userID: 7, role: .user))?.id == 7)
    }

    @Test("X-Security-Sign as the deployed client computes it")
    func visitorSignature() {
        let signature = VisitorSignature(salt: BridgeSettings.defaultVisitorSalt)
        // Python: sha256(("deviceId=%s&salt=%s&timestamp=%s" % (d, salt, t) + "APP_SECRET").encode()).hexdigest()
        let expected = "edb628e8f39d9d87f82aae01cf8b6f732197c38b21b97fba94129171cfde96b6"
        let device = "0123456789abcdef0123456789abcdef0123"
        #expect(signature.expected(deviceID: device, timestamp: "1763700000000") == expected)
        #expect(signature.isValid(expected.uppercased(), deviceID: device, timestamp: "1763700000000"))
        #expect(!signature.isValid(expected, deviceID: device, timestamp: "1763700000001"))
        #expect(!VisitorSignature(salt: "other").isValid(expected, deviceID: device, timestamp: "1763700000000"))
    }
}

extension Data {
    init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }
}
