/// A live WebSocket connection as Redis names it: `online_{uid}` holds
/// `{nodeId}:{connId}` (docs/architecture.md), the process and that process's own connection number.
public struct DeliveryTarget: Hashable, Sendable, CustomStringConvertible {
    public let node: String
    public let connection: UInt64

    public init(node: String, connection: UInt64) {
        self.node = node
        self.connection = connection
    }

    /// Node ids never contain `:` (`NodeIdentity`), so the last `:` separates the parts.
    public init?(_ text: some StringProtocol) {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
              let connection = UInt64(text[text.index(after: colon)...])
        else { return nil }
        self.init(node: String(text[..<colon]), connection: connection)
    }

    public var description: String { "\(node):\(connection)" }
}

/// One connection of one user on the receiving process: what a node envelope addresses.
public struct ConnectionAddress: Hashable, Sendable, CustomStringConvertible {
    public let user: Int
    public let connection: UInt64

    public init(user: Int, connection: UInt64) {
        self.user = user
        self.connection = connection
    }

    public init?(_ text: Substring) {
        guard let colon = text.firstIndex(of: ":"), let user = Int(text[..<colon]),
              let connection = UInt64(text[text.index(after: colon)...])
        else { return nil }
        self.init(user: user, connection: connection)
    }

    public var description: String { "\(user):\(connection)" }
}
