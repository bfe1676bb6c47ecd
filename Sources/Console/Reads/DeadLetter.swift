import Model
import RedisClient

/// An entry of `chat:stream:deadletter`: a stream entry the persister gave up on, with
/// the stream and id it came from, its attempts, the last error and its fields
/// (`field.{name}`).
struct DeadLetter: Sendable {
    static let stream = StreamName.deadLetters

    let id: String
    let stream: String
    let entry: String
    let attempts: Int
    let error: String
    let consumer: String
    /// The original entry's fields, `name=value` each, for the page.
    let fields: [Field]
    /// The original entry's `entity` (or `type`) field, what it was about.
    let kind: String

    struct Field: Sendable {
        let name: String
        let value: String
    }

    init?(entry reply: RedisReply) {
        guard let parts = reply.array, parts.count == 2, let id = parts[0].string, let values = parts[1].array else { return nil }
        self.id = id
        var stream = "", entry = "", attempts = 0, error = "", consumer = ""
        var fields: [Field] = []
        var index = 0
        while index + 1 < values.count {
            let name = values[index].string ?? "", value = values[index + 1].string ?? ""
            switch name {
            case "stream": stream = value
            case "entry": entry = value
            case "attempts": attempts = Int(value) ?? 0
            case "error": error = value
            case "consumer": consumer = value
            default:
                if name.hasPrefix("field.") { fields.append(Field(name: String(name.dropFirst(6)), value: value)) }
            }
            index += 2
        }
        (self.stream, self.entry, self.attempts, self.error, self.consumer, self.fields) = (stream, entry, attempts, error, consumer, fields)
        kind = fields.first { $0.name == "entity" }?.value ?? fields.first { $0.name == "type" }?.value ?? ""
    }

    var json: JSONValue {
        var object: JSONObject = [
            "id": .string(id), "stream": .string(stream), "entry": .string(entry), "attempts": .integer(Int64(attempts)),
            "error": .string(error), "consumer": .string(consumer),
        ]
        object["fields"] = .object(JSONObject(fields.map { (key: $0.name, value: JSONValue.string($0.value)) }))
        return .object(object)
    }

    /// Whether `text` is a stream entry id (`ms-seq`), before it reaches Redis.
    static func isEntryID(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.count <= 20 && $0.utf8.allSatisfy { (0x30...0x39).contains($0) } }
    }
}
