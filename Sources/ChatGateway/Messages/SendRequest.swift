import Metrics
import Model

/// The parameters of `sendmessage` (docs/api.md, *Messages*), checked once, the same for the
/// HTTP endpoint and the WebSocket send frame. `data` and `options` are kept as the JSON
/// text that goes into the message object.
package struct SendRequest: Sendable, Equatable {
    enum ChatType: String, Sendable, CaseIterable {
        case single, group

        /// The `chatType` parameter (sendmessage and revokeMessage).
        init(_ parameters: RequestParameters) throws(APIFailure) {
            self = try parameters.oneOf("chatType", Self.allCases.map(\.rawValue)) == "group" ? .group : .single
        }
    }

    /// The largest `type` accepted (the old server had no bound; every known type is short).
    static let maximumTypeLength = StoredLimits.Message.type.maximum
    /// Sends refused for a type only the server produces (docs/operations.md, *Metrics*).
    static let reservedTypeRefusals = Counter(label: "chat_reserved_type_refusals_total")

    let recipient: Int
    let chatType: ChatType
    let type: String
    /// A string as a JSON string, an object as received.
    let data: [UInt8]
    /// `JSON.parse(decodeURIComponent(options))`, or `null` when that fails or it is absent.
    let options: [UInt8]
    /// The question of a message sent with `options.askanswer` truthy: the recipient's
    /// closest answer goes back to the sender (`AutoReplier`).
    let askedQuestion: AskedQuestion?

    package init(_ parameters: RequestParameters) throws(APIFailure) {
        recipient = Int(try parameters.integer("sendto_id", in: 1...Int64(Int32.max)))
        chatType = try ChatType(parameters)
        type = try parameters.string("type", length: 1...Self.maximumTypeLength)
        // No spoofing: a client's message never looks like the system's (docs/api.md).
        guard !SystemNotice.reservedTypes.contains(type) else {
            Self.reservedTypeRefusals.increment()
            throw APIFailure(SendRefusal.reservedType)
        }
        let data = parameters["data"]
        self.data = try Self.data(data)
        // As stored: a string's JSON text, escapes included (docs/api.md *Limits*).
        let dataLimit = StoredLimits.Message.data(ofType: type)
        guard dataLimit.admits(byteCount: self.data.count) else { throw APIFailure.overLimit(dataLimit, dataLimit.refusal("data")) }
        let options = Self.parsedOptions(parameters["options"])
        var bytes: [UInt8] = []
        JSONSerializer.write(options, into: &bytes)
        guard StoredLimits.Message.options.admits(byteCount: bytes.count) else {
            throw APIFailure.overLimit(StoredLimits.Message.options, StoredLimits.Message.options.refusal("options"))
        }
        self.options = bytes
        askedQuestion = AskedQuestion(type: type, data: data, options: options)
    }

    private static func data(_ value: JSONValue?) throws(APIFailure) -> [UInt8] {
        switch value {
        case .none, .null, .string(""):
            throw APIFailure("参数data不能为空")
        case .some(let value) where value.stringValue != nil || value.objectValue != nil:
            var bytes: [UInt8] = []
            JSONSerializer.write(value, into: &bytes)
            return bytes
        default:
            throw APIFailure("参数data必须是字符串或对象")
        }
    }

    /// The old server's `JSON.parse(decodeURIComponent(options))`, `null` if it throws. A
    /// client that sends an object (a JSON body, the WebSocket frame) gets it as it is.
    static func parsedOptions(_ value: JSONValue?) -> JSONValue {
        switch value {
        case .none, .null: .null
        case .string(let text): URIComponent.decode(text).flatMap { try? JSONParser.parse($0) } ?? .null
        case .some(let other): other
        }
    }
}
