import Model

/// An `askanswer` row: one of a user's question/answer pairs, kept as JSON in
/// `chat:user:{user_id}:askanswers` (field: the id) with `_v`, its version, which the API
/// never shows. `lua/askanswer_change.lua` writes it.
struct AskAnswerRow: Sendable {
    /// The table's columns, in order (the API's and the entity event's order).
    static let columns = ["id", "user_id", "ask", "answer", "type", "create_time", "update_time"]

    let id: Int
    let userID: Int
    let ask: String
    let answer: String
    let type: String
    private let stored: JSONObject

    init?(_ bytes: [UInt8]) {
        guard case .object(let object) = try? JSONParser.parse(bytes), let id = object["id"]?.integerValue,
              let userID = object["user_id"]?.integerValue, let ask = object["ask"]?.stringValue,
              let answer = object["answer"]?.stringValue
        else { return nil }
        (self.id, self.userID, self.ask, self.answer) = (Int(id), Int(userID), ask, answer)
        type = object["type"]?.stringValue ?? ""
        stored = object
    }

    /// The row as the API shows it: the columns in order, never `_v`.
    var json: JSONValue {
        var object = JSONObject()
        for column in Self.columns { object[column] = stored[column] ?? .null }
        return .object(object)
    }
}
