/// What the sender's step of a single send between partitions read and decided, for the
/// recipient's step (`lua/message_single_sender.lua` answers it, and keeps it in the
/// send's `pending` record for the repairer).
public struct SingleSendFacts: Sendable, Equatable {
    public var sender: Int
    public var recipient: Int
    public var type: String
    public var data: [UInt8]
    public var options: [UInt8]
    /// The message's `create_time` (ms, Redis' clock at the sender's step), as text.
    public var created: String
    public var isAutoReply: Bool
    /// The sender's step took the one message before a friendship.
    public var reserved: Bool
    public var role: SenderRole
    public var nickname: String
    public var username: String
    public var avatar: String
    public var uuid: String
    /// The sender's remark for the recipient, or "".
    public var remark: String

    public init(
        sender: Int, recipient: Int, type: String, data: [UInt8], options: [UInt8], created: String, isAutoReply: Bool,
        reserved: Bool, role: SenderRole, nickname: String, username: String, avatar: String, uuid: String, remark: String
    ) {
        self.sender = sender
        self.recipient = recipient
        self.type = type
        self.data = data
        self.options = options
        self.created = created
        self.isAutoReply = isAutoReply
        self.reserved = reserved
        self.role = role
        self.nickname = nickname
        self.username = username
        self.avatar = avatar
        self.uuid = uuid
        self.remark = remark
    }

    /// From a `pending` record's fields (`HGETALL`), nil when one is missing or bad.
    public init?(record fields: [String: [UInt8]]) {
        func text(_ name: String) -> String? { fields[name].map { String(decoding: $0, as: UTF8.self) } }
        guard let sender = text("me").flatMap({ Int($0) }), let recipient = text("to").flatMap({ Int($0) }),
              let type = text("type"), let data = fields["data"], let options = fields["options"],
              let created = text("created"), let role = text("role")
        else { return nil }
        self.init(
            sender: sender, recipient: recipient, type: type, data: data, options: options, created: created,
            isAutoReply: text("auto_reply") == "autoreply", reserved: text("reserved") == "1",
            role: role == "visitor" ? .visitor : .user, nickname: text("nickname") ?? "", username: text("username") ?? "",
            avatar: text("avatar") ?? "", uuid: text("uuid") ?? "", remark: text("remark") ?? ""
        )
    }
}
