/// One entry of `chat:stream:messages`: an accepted message, or the revoke of one.
struct MessageRecord: Sendable {
    enum Kind: String, Sendable {
        case message
        case revoke
    }

    let kind: Kind
    let id: String
    let chatType: String
    let type: String
    let fromID: String
    let toID: Int64
    let fromName: String
    let fromAvatar: String
    let toName: String
    let toAvatar: String
    let data: String
    let options: String
    let createTime: Int64
    let isRemoved: Bool

    init(fields: [String: String]) throws(EntryError) {
        guard let kind = fields["kind"].flatMap(Kind.init(rawValue:)) else {
            throw EntryError("kind must be message or revoke, not '\(fields["kind"] ?? "")'")
        }
        guard let id = fields["id"], !id.isEmpty, id.utf8.count <= 36, id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw EntryError("id must be 1-36 printable ASCII characters, not '\(fields["id"] ?? "")'")
        }
        guard let chatType = fields["chat_type"], chatType == "single" || chatType == "group" else {
            throw EntryError("chat_type must be single or group, not '\(fields["chat_type"] ?? "")'")
        }
        guard let toID = fields["to_id"].flatMap({ Int64($0) }), toID >= 0, toID <= Int64(UInt32.max) else {
            throw EntryError("to_id must be a non-negative integer, not '\(fields["to_id"] ?? "")'")
        }
        guard let createTime = fields["create_time"].flatMap({ Int64($0) }), createTime >= 0 else {
            throw EntryError("create_time must be milliseconds, not '\(fields["create_time"] ?? "")'")
        }
        guard let fromID = fields["from_id"], !fromID.isEmpty else { throw EntryError("from_id is missing") }
        guard let data = fields["data"] else { throw EntryError("data is missing") }
        self.kind = kind
        self.id = id
        self.chatType = chatType
        self.type = fields["type"] ?? ""
        self.fromID = fromID
        self.toID = toID
        self.fromName = fields["from_name"] ?? ""
        self.fromAvatar = fields["from_avatar"] ?? ""
        self.toName = fields["to_name"] ?? ""
        self.toAvatar = fields["to_avatar"] ?? ""
        self.data = data
        self.options = fields["options"] ?? "{}"
        self.createTime = createTime
        self.isRemoved = kind == .revoke || fields["isremove"] == "1"
    }
}
