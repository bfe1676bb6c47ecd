/// What one bridge process publishes on another's channel `chat:node:{nodeId}`.
///
/// The wire form is a header line and an optional body:
/// `{verb} {uid}:{conn}[,{uid}:{conn}…]\n{body}`. `lua/deliver.lua` writes the
/// `deliver` form itself (it learns the target inside the script), so the two must agree;
/// the delivery tests run both ends.
public enum NodeEnvelope: Sendable, Equatable {
    /// Push this message object (JSON bytes) to these connections.
    case deliver(to: [ConnectionAddress], message: [UInt8])
    /// A newer login took over: send `force_logout` and close with a close frame.
    case kick(ConnectionAddress)
    /// Push the user's offline queue to this connection (`chatGetmessageOffLine`).
    case flush(ConnectionAddress)

    private enum Verb: String {
        case deliver, kick, flush
    }

    public func encoded() -> [UInt8] {
        let (verb, addresses, body): (Verb, [ConnectionAddress], [UInt8]) = switch self {
        case .deliver(let to, let message): (.deliver, to, message)
        case .kick(let address): (.kick, [address], [])
        case .flush(let address): (.flush, [address], [])
        }
        var bytes = Array("\(verb.rawValue) \(addresses.map(\.description).joined(separator: ","))\n".utf8)
        bytes.append(contentsOf: body)
        return bytes
    }

    public init?(_ bytes: [UInt8]) {
        let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
        let header = String(decoding: bytes[..<newline], as: UTF8.self)
        guard let space = header.firstIndex(of: " "), let verb = Verb(rawValue: String(header[..<space])) else { return nil }
        var addresses: [ConnectionAddress] = []
        for part in header[header.index(after: space)...].split(separator: ",") {
            guard let address = ConnectionAddress(part) else { return nil }
            addresses.append(address)
        }
        let body = newline < bytes.endIndex ? Array(bytes[(newline + 1)...]) : []
        switch verb {
        case .deliver:
            guard !addresses.isEmpty, !body.isEmpty else { return nil }
            self = .deliver(to: addresses, message: body)
        case .kick:
            guard addresses.count == 1 else { return nil }
            self = .kick(addresses[0])
        case .flush:
            guard addresses.count == 1 else { return nil }
            self = .flush(addresses[0])
        }
    }
}
