/// A server notice as a message object (docs/api.md, *Server notices*): pushed as
/// `singleChat` like any message, with `data` = `{"data":text,"dataType":false,"otherData":null}`.
public struct SystemNotice: Sendable {
    /// Message types only the server produces: a client that sends one would look like the
    /// system to its peer, so every send path refuses them (docs/api.md, *Messages*).
    public static let reservedTypes: Set<String> = ["systemNotice"]

    /// One side of the notice: who it is shown as coming from, or going to.
    public struct Party: Sendable {
        public var id: JSONValue
        public var name: String
        public var avatar: String

        public init(id: JSONValue, name: String, avatar: String) {
            self.id = id
            self.name = name
            self.avatar = avatar
        }
    }

    public var id: String
    public var from: Party
    public var to: Party
    public var chatType = "single"
    /// `systemNotice`, or `text` for the notices the client shows as a message.
    public var type = "systemNotice"
    public var text: String
    public var createTime: Int64
    /// Fields after the standard ones, in order (`redirect`, `msgidKey`, `actionType`…).
    public var extra: [(key: String, value: JSONValue)] = []

    public init(id: String, from: Party, to: Party, text: String, createTime: Int64) {
        self.id = id
        self.from = from
        self.to = to
        self.text = text
        self.createTime = createTime
    }

    /// `{"data":text,"dataType":false,"otherData":null}`.
    public static func data(_ text: String) -> JSONValue {
        ["data": .string(text), "dataType": false, "otherData": nil]
    }

    public var object: JSONObject {
        var object: JSONObject = [
            "id": .string(id),
            "from_id": from.id, "from_name": .string(from.name), "from_avatar": .string(from.avatar),
            "to_id": to.id, "to_name": .string(to.name), "to_avatar": .string(to.avatar),
            "chatType": .string(chatType), "type": .string(type),
            "data": Self.data(text),
            "options": .object([:]),
            "create_time": .integer(createTime),
            "isremove": 0,
        ]
        for (key, value) in extra { object[key] = value }
        return object
    }

    /// The JSON bytes delivered.
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        JSONSerializer.write(.object(object), into: &bytes)
        return bytes
    }
}
