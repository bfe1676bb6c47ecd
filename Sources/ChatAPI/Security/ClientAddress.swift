#if canImport(Glibc)
import Glibc
#endif
import HTTPTypes
import Hummingbird
import NIOCore

/// Whom a request comes from, for the limits per client address (docs/operations.md,
/// *Rate limits*): the peer of the connection or, with `--trust-forwarded-for` behind a
/// proxy, the last address of `X-Forwarded-For` (the one the proxy itself appended; what
/// is left of it came from the client). An IPv6 address counts by its /64 prefix, which
/// one subscriber usually holds whole; an IPv4-mapped one as the IPv4 address.
package struct ClientAddress: Sendable, Equatable, CustomStringConvertible {
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    /// The text the limits' keys are made of: `203.0.113.7`, `2001:db8:0:1::/64`.
    package let description: String

    init(_ address: SocketAddress) throws(NotAnIPAddress) {
        switch address {
        case .v4(let v4):
            description = Self.dotted(withUnsafeBytes(of: v4.address.sin_addr) { Array($0) })
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                description = Self.dotted(Array(bytes[12..<16]))
            } else {
                let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
                description = groups.joined(separator: ":") + "::/64"
            }
        case .unixDomainSocket:
            throw NotAnIPAddress()
        }
    }

    struct NotAnIPAddress: Error {}

    /// The limits' text for an address given as text (`2001:db8:0:1::5`); nil when it is
    /// not an IP address. The console counts its lockout per address with it.
    package init?(ipAddress text: String) {
        guard let parsed = try? SocketAddress(ipAddress: text, port: 0), let address = try? ClientAddress(parsed) else { return nil }
        self = address
    }

    /// The request's client address; nil when there is none (a unix socket, the router
    /// driven in-process by tests): such a request is not counted per address.
    static func of(_ request: Request, context: BridgeRequestContext, trustForwardedFor: Bool) -> ClientAddress? {
        if trustForwardedFor, let forwarded = request.headers[values: forwardedFor].last,
            let last = forwarded.split(separator: ",").last.map({ String($0).trimming(" \t") }),
            let address = ClientAddress(ipAddress: last)
        {
            return address
        }
        guard let peer = context.remoteAddress else { return nil }
        return try? ClientAddress(peer)
    }

    private static func dotted(_ bytes: [UInt8]) -> String {
        bytes.map(String.init).joined(separator: ".")
    }
}
