import CCrypt
import Crypto

/// Password hashes: bcrypt (`$2b$`, libxcrypt) for everything new; a stored value of 64
/// hex digits is a legacy unsalted SHA-256 from an imported eggjs database, accepted once
/// and then replaced (docs/api.md, **Fix**).
///
/// bcrypt is deliberately slow (tens of milliseconds at cost 10): call it off the event
/// loops (a thread pool), never on one.
package struct PasswordHasher: Sendable {
    package enum Verification: Equatable, Sendable {
        case invalid
        /// The password is right; `needsRehash` when the stored form is legacy or weaker
        /// than the current cost, so the caller stores `hash(password)` instead.
        case valid(needsRehash: Bool)
    }

    let cost: Int

    package init(cost: Int = 10) {
        precondition((4...31).contains(cost), "bcrypt cost must be 4...31")
        self.cost = cost
    }

    package func hash(_ password: String) -> String {
        var setting = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
        guard crypt_gensalt_rn("$2b$", UInt(cost), nil, 0, &setting, Int32(setting.count)) != nil else {
            // Only a missing random source (no /dev/urandom, no getrandom) gets here.
            fatalError("crypt_gensalt_rn failed: no randomness for a bcrypt salt")
        }
        guard let hashed = Self.crypt(password, setting: setting), hashed.hasPrefix("$2b$") else {
            fatalError("libcrypt does not support bcrypt")
        }
        return hashed
    }

    package func verify(_ password: String, against stored: String) -> Verification {
        if Self.isLegacySHA256(stored) {
            let digest = SHA256.hash(data: Array(password.utf8)).hexString
            return constantTimeEquals(digest, stored.lowercased()) ? .valid(needsRehash: true) : .invalid
        }
        guard stored.hasPrefix("$2"), let computed = Self.crypt(password, setting: Array(stored.utf8CString)) else {
            return .invalid
        }
        guard constantTimeEquals(computed, stored) else { return .invalid }
        return .valid(needsRehash: Self.cost(of: stored) < cost)
    }

    static func isLegacySHA256(_ stored: String) -> Bool {
        stored.utf8.count == 64 && stored.utf8.allSatisfy { $0.isHexDigit }
    }

    private static func cost(of hash: String) -> Int {
        // $2b$10$…: the cost is the two digits after the second '$'.
        let parts = hash.split(separator: "$", omittingEmptySubsequences: true)
        return parts.count >= 2 ? Int(parts[1]) ?? 0 : 0
    }

    private static func crypt(_ password: String, setting: [CChar]) -> String? {
        let data = UnsafeMutablePointer<crypt_data>.allocate(capacity: 1)
        defer { data.deallocate() }
        UnsafeMutableRawPointer(data).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<crypt_data>.size)
        guard let output = crypt_rn(password, setting, data, Int32(MemoryLayout<crypt_data>.size)) else { return nil }
        let text = String(cString: output)
        return text.hasPrefix("*") ? nil : text  // "*0"/"*1": libxcrypt's failure tokens
    }
}

/// Compares without an early exit, so the time taken does not tell how much matched.
func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
    let a = Array(lhs.utf8), b = Array(rhs.utf8)
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in a.indices { difference |= a[index] ^ b[index] }
    return difference == 0
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x61...0x66).contains(self) || (0x41...0x46).contains(self)
    }
}

extension Digest {
    /// Lower-case hexadecimal, as `crypto.createHash(…).digest('hex')` prints it.
    var hexString: String {
        var text = ""
        text.reserveCapacity(Self.byteCount * 2)
        for byte in self {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0x0F)])
        }
        return text
    }
}

private let hexDigits: [Character] = Array("0123456789abcdef")
