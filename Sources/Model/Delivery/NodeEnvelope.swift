/// What one bridge process publishes on another's channel `chat:node:{nodeId}`.
///
/// The wire form is a header line and an optional body:
/// `{verb} {uid}:{conn}[,{uid}:{conn}…][ {sequence}]\n{body}`. This is the one Swift
/// definition; the routing scripts write the `deliver` form themselves (they learn the
/// target inside the script) with `lua/lib/envelope.lua`, the one Lua definition, so the
/// two must agree; the delivery tests run both ends.
public enum NodeEnvelope: Sendable, Equatable {
    /// Push this message object (JSON bytes) to these connections. `sequence` numbers the
    /// deliveries published to the receiving process (`chat:nodes:deliveries`; 0: none).
    case deliver(to: [ConnectionAddress], message: [UInt8], sequence: UInt64)
    /// A newer login took over, or the session was revoked (`lua/online_revoke.lua`):
    /// send `force_logout` and close with a close frame.
    case kick(ConnectionAddress)
    /// Push the user's offline queue to this connection (`chatGetmessageOffLine`).
    case flush(ConnectionAddress)

    private enum Verb: String {
        case deliver, kick, flush
    }

    public func encoded() -> [UInt8] {
        let (verb, addresses, sequence, body): (Verb, [ConnectionAddress], UInt64, [UInt8]) = switch self {
        case .deliver(let to, let message, let sequence): (.deliver, to, sequence, message)
        case .kick(let address): (.kick, [address], 0, [])
        case .flush(let address): (.flush, [address], 0, [])
        }
        let numbered = sequence > 0 ? " \(sequence)" : ""
        var bytes = Array("\(verb.rawValue) \(addresses.map(\.description).joined(separator: ","))\(numbered)\n".utf8)
        bytes.append(contentsOf: body)
        return bytes
    }

    public init?(_ bytes: [UInt8]) {
        let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
        let header = String(decoding: bytes[..<newline], as: UTF8.self)
        let fields = header.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 2 || fields.count == 3, let verb = Verb(rawValue: String(fields[0])) else { return nil }
        var sequence: UInt64 = 0
        if fields.count == 3 {
            guard let number = UInt64(fields[2]), number > 0 else { return nil }
            sequence = number
        }
        var addresses: [ConnectionAddress] = []
        for part in fields[1].split(separator: ",") {
            guard let address = ConnectionAddress(part) else { return nil }
            addresses.append(address)
        }
        let body = newline < bytes.endIndex ? Array(bytes[(newline + 1)...]) : []
        switch verb {
        case .deliver:
            guard !addresses.isEmpty, !body.isEmpty else { return nil }
            self = .deliver(to: addresses, message: body, sequence: sequence)
        case .kick:
            guard addresses.count == 1, sequence == 0 else { return nil }
            self = .kick(addresses[0])
        case .flush:
            guard addresses.count == 1, sequence == 0 else { return nil }
            self = .flush(addresses[0])
        }
    }
}
