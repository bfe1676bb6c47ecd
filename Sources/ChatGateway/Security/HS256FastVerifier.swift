import Crypto
import Foundation
import Model

/// The per-request check of the bridge's own tokens without jwt-kit's parsing (Foundation
/// JSON decoding of the header and the claims, `Data` copies: most of the CPU of an
/// authenticated request that does little). It answers only when it is sure, and its
/// answer is then jwt-kit's: the header is exactly `{"alg":"HS256","typ":"JWT"}`, in the
/// one order or the other (jwt-kit writes its header from a dictionary: the order changes
/// from one process to the next, and a token outlives the process that signed it), the
/// HMAC-SHA256 over `header.payload` matches (compared in constant time), and the
/// claims are a flat object of exactly the fields `TokenService.Claims` has, with plain
/// values (no escapes, `id` an integer), not expired. Anything else — another header or
/// algorithm, a wrong signature, an expired token, an unusual claims text — is `nil`,
/// and `TokenService` asks jwt-kit, which stays the reference (and the signer).
struct HS256FastVerifier: Sendable {
    /// The claims this path reads: those of `TokenService.Claims`.
    struct Claims: Equatable, Sendable {
        var id: Int
        var role: Role
        var issuedAt: Double
        var tokenID: String
        var expires: Double?
    }

    private let key: SymmetricKey
    /// The header segments taken, base64url, dot included.
    private let headerSegments: [[UInt8]]

    /// The headers `TokenService`'s tokens carry, as JSON texts.
    static let headers = [#"{"alg":"HS256","typ":"JWT"}"#, #"{"typ":"JWT","alg":"HS256"}"#]

    init(secret: String) {
        key = SymmetricKey(data: Array(secret.utf8))
        headerSegments = Self.headers.map { header in
            Array(header.utf8).withUnsafeBytes { Base64URL.encode($0) } + [UInt8(ascii: ".")]
        }
    }

    /// The claims of `token` when it is certainly valid at `now` (seconds since 1970), else nil.
    func verify(_ token: String, now: Double) -> Claims? {
        var token = token
        return token.withUTF8 { bytes -> Claims? in
            guard let header = headerSegments.first(where: { bytes.count > $0.count && bytes.starts(with: $0) }),
                  let lastDot = bytes.lastIndex(of: UInt8(ascii: ".")), lastDot >= header.count
            else { return nil }
            let signingInput = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[..<lastDot]))
            let signature = bytes[(lastDot + 1)...]
            let code = HMAC<SHA256>.authenticationCode(for: signingInput, using: key)
            guard Self.matches(code, base64URL: signature) else { return nil }
            guard let payload = Base64URL.decode(bytes[header.count..<lastDot]),
                  let claims = FlatClaims.parse(payload)
            else { return nil }
            if let expires = claims.expires, !(now < expires) { return nil }
            return claims
        }
    }

    /// Whether `signature` is the unpadded base64url text of `code`, in time independent
    /// of where they differ.
    private static func matches(_ code: HashedAuthenticationCode<SHA256>, base64URL signature: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        let expected = code.withUnsafeBytes { Base64URL.encode($0) }
        guard expected.count == signature.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(expected, signature) { difference |= a ^ b }
        return difference == 0
    }
}

/// Unpadded base64url (RFC 4648 §5), as JWTs write their segments.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out.append(alphabet[Int(value >> 18 & 63)])
            out.append(alphabet[Int(value >> 12 & 63)])
            out.append(alphabet[Int(value >> 6 & 63)])
            out.append(alphabet[Int(value & 63)])
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            let value = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            out.append(alphabet[Int(value >> 18 & 63)])
            out.append(alphabet[Int(value >> 12 & 63)])
            if rest == 2 { out.append(alphabet[Int(value >> 6 & 63)]) }
        }
        return out
    }

    /// nil for a character outside the alphabet, padding, a length no encoding has, or
    /// bits left over in the last character (a non-canonical text: jwt-kit decides).
    static func decode(_ text: Slice<UnsafeBufferPointer<UInt8>>) -> [UInt8]? {
        guard text.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for character in text {
            guard let value = sextet(character) else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        guard accumulator == 0 else { return nil }
        return out
    }

    private static func sextet(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): character - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): character - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }
}

/// The claims text `TokenService` writes: `{"id":…,"role":"…","iat":…,"jti":"…"}` (and
/// `exp`), keys in any order, JSON whitespace allowed. Anything else — another key, a
/// repeated one, an escape in a string, a nested value, `null` — is nil.
private struct FlatClaims {
    private let bytes: [UInt8]
    private var index = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    static func parse(_ bytes: [UInt8]) -> HS256FastVerifier.Claims? {
        var parser = FlatClaims(bytes)
        return parser.object()
    }

    private mutating func object() -> HS256FastVerifier.Claims? {
        var id: Int?, role: Role?, issuedAt: Double?, tokenID: String?, expires: Double?
        guard take(UInt8(ascii: "{")) else { return nil }
        var first = true
        while true {
            skipSpace()
            if take(UInt8(ascii: "}")) { break }
            if !first { guard take(UInt8(ascii: ",")) else { return nil } }
            first = false
            guard let key = string() else { return nil }
            skipSpace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            switch key {
            case "id":
                guard id == nil, let value = integer() else { return nil }
                id = value
            case "role":
                guard role == nil, let value = string().flatMap(Role.init(rawValue:)) else { return nil }
                role = value
            case "iat":
                guard issuedAt == nil, let value = number() else { return nil }
                issuedAt = value
            case "jti":
                guard tokenID == nil, let value = string() else { return nil }
                tokenID = value
            case "exp":
                guard expires == nil, let value = number() else { return nil }
                expires = value
            default:
                return nil
            }
        }
        skipSpace()
        guard index == bytes.count, let id, let role, let issuedAt, let tokenID else { return nil }
        return .init(id: id, role: role, issuedAt: issuedAt, tokenID: tokenID, expires: expires)
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// A string without escapes or control characters.
    private mutating func string() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            guard bytes[index] != UInt8(ascii: "\\"), bytes[index] >= 0x20 else { return nil }
            index += 1
        }
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return String(validating: bytes[start..<index], as: UTF8.self)
    }

    /// Digits with an optional minus sign, in range.
    private mutating func integer() -> Int? {
        let start = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let digits = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        guard index > digits, index - digits <= 18, bytes[digits] != UInt8(ascii: "0") || index - digits == 1 else { return nil }
        return Int(String(decoding: bytes[start..<index], as: UTF8.self))
    }

    /// A JSON number (its grammar), as a Double.
    private mutating func number() -> Double? {
        let start = index
        while index < bytes.count, "-+.eE0123456789".utf8.contains(bytes[index]) { index += 1 }
        guard index > start else { return nil }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard Self.isJSONNumber(text.utf8) else { return nil }
        return Double(text)
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private static func isJSONNumber(_ text: String.UTF8View) -> Bool {
        var bytes = text.makeIterator()
        var byte = bytes.next()
        func isDigit(_ byte: UInt8?) -> Bool { byte.map { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } ?? false }
        if byte == UInt8(ascii: "-") { byte = bytes.next() }
        guard isDigit(byte) else { return false }
        if byte == UInt8(ascii: "0") {
            byte = bytes.next()
        } else {
            while isDigit(byte) { byte = bytes.next() }
        }
        if byte == UInt8(ascii: ".") {
            byte = bytes.next()
            guard isDigit(byte) else { return false }
            while isDigit(byte) { byte = bytes.next() }
        }
        if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            byte = bytes.next()
            if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") { byte = bytes.next() }
            guard isDigit(byte) else { return false }
            while isDigit(byte) { byte = bytes.next() }
        }
        return byte == nil
    }
}
