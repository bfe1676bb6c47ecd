import Model

/// The parameters of `revokeMessage` (docs/api.md); extra fields are ignored. `to_name` and
/// `to_avatar` are still checked as the old server did, so that clients see the same
/// refusals, but not used: the notice names the peer as the stored message does (no
/// spoofing).
package struct RevokeRequest: Sendable, Equatable {
    /// Clocks of bridges and Redis (which stamps messages) may disagree a little: a
    /// `create_time` up to this far ahead of this process's clock is accepted.
    static let clockSkewMilliseconds: Int64 = 60_000

    let peer: Int
    let messageID: String
    let chatType: SendRequest.ChatType
    /// The client's idea of the message's time; the stored time decides (docs/api.md, Fix).
    let claimedCreateTime: Int64

    package init(_ parameters: RequestParameters, now: Int64) throws(APIFailure) {
        peer = Int(try parameters.integer("to_id", in: 1...Int64(Int32.max)))
        _ = try parameters.string("to_name", length: 1...StoredLimits.Message.toName.maximum)
        _ = try parameters.string("to_avatar", length: 10...StoredLimits.User.avatar.maximum)
        messageID = try parameters.string("id")
        chatType = try SendRequest.ChatType(parameters)
        claimedCreateTime = try parameters.integer("create_time", in: 1_000_000_000_000...(now + Self.clockSkewMilliseconds))
    }

    /// Message ids are UUIDs (docs/architecture.md); anything else names no message.
    var hasWellFormedID: Bool {
        messageID.utf8.count == 36 && messageID.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) || (0x41...0x46).contains(byte) || byte == 0x2D
        }
    }
}
