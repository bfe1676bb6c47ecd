import Model

/// One guidance message serialized once, with stand-ins where connections differ (the
/// message id, the user's id, name and avatar, the time, a link built from the user):
/// each connection then writes only those. Building every message object anew was a
/// tenth of the bridge's CPU while connections opened (docs/benchmarks.md, *Gateway*).
/// The template comes from the same `SystemNotice` the message would be built from, so
/// the bytes are the same.
struct GuidanceTemplate: Sendable {
    /// What a connection writes in place of a stand-in.
    private enum Piece: Sendable {
        case bytes([UInt8])
        case messageID
        case userID
        /// Each a JSON string, quotes included.
        case displayName, avatar, link
        case time
    }

    /// The stand-ins, as the serializer writes them.
    private enum StandIn {
        static let messageID = "@@message-id@@"
        static let userID = Int.max - 4_111_999
        static let displayName = "@@display-name@@"
        static let avatar = "@@avatar@@"
        static let link = "@@link@@"
        static let time = Int64.min + 4_111_999

        static let user = UserRow(
            id: userID, uuid: "", username: displayName, password: "", avatar: avatar, role: .user, createTime: ""
        )

        /// How each stand-in appears in the serialized message (no one begins another).
        static let pieces: [(text: [UInt8], piece: Piece)] = [
            (Array("\"\(messageID)\"".utf8), .messageID),
            (Array(String(userID).utf8), .userID),
            (Array("\"\(displayName)\"".utf8), .displayName),
            (Array("\"\(avatar)\"".utf8), .avatar),
            (Array("\"\(link)\"".utf8), .link),
            (Array(String(time).utf8), .time),
        ]
    }

    private let pieces: [Piece]
    private let size: Int

    /// - Parameter build: the message for a user, a time, a message id and a link (nil: the
    ///   entry's own).
    init(perUserLink: Bool, _ build: (UserRow, Int64, String, String?) -> [UInt8]) {
        let bytes = build(StandIn.user, StandIn.time, StandIn.messageID, perUserLink ? StandIn.link : nil)
        var pieces: [Piece] = []
        var literal: [UInt8] = []
        var index = 0
        scanning: while index < bytes.count {
            for (text, piece) in StandIn.pieces where bytes[index...].starts(with: text) {
                if !literal.isEmpty { pieces.append(.bytes(literal)) }
                literal = []
                pieces.append(piece)
                index += text.count
                continue scanning
            }
            literal.append(bytes[index])
            index += 1
        }
        if !literal.isEmpty { pieces.append(.bytes(literal)) }
        self.pieces = pieces
        size = bytes.count
    }

    /// What a connection's messages share, serialized once for all of them.
    struct Fields {
        let userID: [UInt8]
        let displayName: [UInt8]
        let avatar: [UInt8]
        let time: [UInt8]

        init(user: UserRow, now: Int64) {
            userID = Array(String(user.id).utf8)
            var text: [UInt8] = []
            JSONSerializer.writeString(user.displayName, into: &text)
            displayName = text
            text = []
            JSONSerializer.writeString(user.avatar, into: &text)
            avatar = text
            time = Array(String(now).utf8)
        }
    }

    func message(_ fields: Fields, id: String, link: String?) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size + fields.displayName.count + 2 * fields.avatar.count + 64)
        for piece in pieces {
            switch piece {
            case .bytes(let literal): bytes += literal
            case .messageID: JSONSerializer.writeString(id, into: &bytes)
            case .userID: bytes += fields.userID
            case .displayName: bytes += fields.displayName
            case .avatar: bytes += fields.avatar
            case .link: JSONSerializer.writeString(link ?? "", into: &bytes)
            case .time: bytes += fields.time
            }
        }
        return bytes
    }
}
