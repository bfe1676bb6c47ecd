/// What the sender's step of a group send on a partitioned layout read and decided, for
/// the later steps (`lua/message_group_sender.lua` answers it, and keeps it in the send's
/// `pending` record for a retry and the repairer).
public struct GroupSendFacts: Sendable, Equatable {
    public var sender: Int
    public var group: Int
    public var type: String
    public var data: [UInt8]
    public var options: [UInt8]
    /// The message's `create_time` (ms, Redis' clock at the sender's step), as text.
    public var created: String
    public var nickname: String
    public var username: String
    public var avatar: String
    public var uuid: String
    /// The send's client id, or nil.
    public var clientID: String?

    public init(
        sender: Int, group: Int, type: String, data: [UInt8], options: [UInt8], created: String, nickname: String,
        username: String, avatar: String, uuid: String, clientID: String?
    ) {
        self.sender = sender
        self.group = group
        self.type = type
        self.data = data
        self.options = options
        self.created = created
        self.nickname = nickname
        self.username = username
        self.avatar = avatar
        self.uuid = uuid
        self.clientID = clientID
    }

    /// From a `pending` record's fields (`HGETALL`), nil when one is missing or bad.
    public init?(record fields: [String: [UInt8]]) {
        func text(_ name: String) -> String? { fields[name].map { String(decoding: $0, as: UTF8.self) } }
        guard let sender = text("me").flatMap({ Int($0) }), let group = text("group").flatMap({ Int($0) }),
              let type = text("type"), let data = fields["data"], let options = fields["options"],
              let created = text("created")
        else { return nil }
        let clientID = text("client_id") ?? ""
        self.init(
            sender: sender, group: group, type: type, data: data, options: options, created: created,
            nickname: text("nickname") ?? "", username: text("username") ?? "", avatar: text("avatar") ?? "",
            uuid: text("uuid") ?? "", clientID: clientID.isEmpty ? nil : clientID
        )
    }
}
