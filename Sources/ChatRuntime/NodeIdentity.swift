#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Names a process among its peers (Redis `online_{uid}` values and `chat:node:{id}`
/// channels carry it), so it must be unique per running process.
public enum NodeIdentity {
    /// `{hostname}-{pid}-{random}`: unique even when a pid is reused after a restart.
    public static func generate() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let host = gethostname(&buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            : "node"
        let cleanHost = String(host.unicodeScalars.filter(isAllowed).prefix(40))
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        return "\(cleanHost.isEmpty ? "node" : cleanHost)-\(getpid())-\(suffix)"
    }

    public static func isValid(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64 && id.unicodeScalars.allSatisfy(isAllowed)
    }

    // `:` separates node and connection in `online_{uid}`, so it is never allowed here.
    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ".": true
        default: false
        }
    }
}
