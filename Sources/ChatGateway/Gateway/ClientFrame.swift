import Model

/// A text message from a client, decoded once (docs/api.md, *WebSocket*, *Frames*, and the send
/// frame this project adds — see the docs/api.md, *Frames*).
enum ClientFrame: Sendable {
    /// `{"type":"ping",…}`, `{"type":"ping"}` or the bare text `ping`: answered with a pong.
    case ping
    /// `{"type":"send","cid":"…","message":{sendto_id, chatType, type, data, options}}`.
    case send(ClientSend)
    /// Anything else (`{"type":"pong"}`, `undefined`, unknown types): ignored, not closed.
    case ignored

    init(_ text: String) {
        if text == "ping" {
            self = .ping
            return
        }
        guard text.utf8.first == UInt8(ascii: "{"), case .object(let object)? = try? JSONParser.parse(text) else {
            self = .ignored
            return
        }
        switch object["type"] {
        case "ping": self = .ping
        case "send": self = .send(ClientSend(object))
        default: self = .ignored
        }
    }
}

/// A send frame: the client's id for it, and the checked `sendmessage` parameters.
struct ClientSend: Sendable {
    static let clientIDLength = 1...64

    /// Echoed in the acknowledgement; nil when the frame carried no usable one.
    let clientID: String?
    /// The request, or why it cannot be sent (acknowledged as a failure).
    let request: Result<SendRequest, APIFailure>

    init(_ frame: JSONObject) {
        let parameters = RequestParameters(body: frame)
        clientID = try? parameters.string("cid", length: Self.clientIDLength)
        request = Result { () throws(APIFailure) -> SendRequest in
            _ = try parameters.string("cid", length: Self.clientIDLength)
            guard case .object(let message)? = frame["message"] else { throw APIFailure("参数message不能为空") }
            return try SendRequest(RequestParameters(body: message))
        }
    }
}
