import Foundation
import Model

/// One of the old eggjs server's Q&A files, `data/askAnswer/chatuser_{type}_{id}.json`:
/// the question/answer pairs of user `{id}` of category `{type}`. Read leniently, as the
/// old server wrote them over the years: the file is a JSON array of pairs, or an object
/// with the array under `data`, `list` or `rows`, or an object of pairs keyed by id. A pair
/// has `ask` and `answer` (text), and may have `id`, `type` (else the name's `{type}`),
/// `create_userId` or `user_id` (else the name's `{id}`), `create_time` and
/// `update_time` (`YYYY-MM-DD HH:mm:ss`, ISO-8601, or milliseconds since 1970).
struct OldAskAnswerFile: Sendable {
    struct Pair: Sendable, Hashable {
        var id: Int?
        var owner: Int
        var ask: String
        var answer: String
        var type: String
        var createTime: String?
        var updateTime: String?
    }

    let name: String
    let owner: Int
    let type: String
    var pairs: [Pair] = []
    /// Entries that are not pairs, with the reason.
    var rejected: [String] = []

    /// The owner and type of a file name; nil when the name is not `chatuser_{type}_{id}.json`.
    static func parseName(_ name: String) -> (type: String, owner: Int)? {
        guard name.hasPrefix("chatuser_"), name.hasSuffix(".json") else { return nil }
        let middle = name.dropFirst("chatuser_".count).dropLast(".json".count)
        guard let underscore = middle.lastIndex(of: "_"), let owner = Int(middle[middle.index(after: underscore)...]), owner > 0
        else { return nil }
        return (String(middle[..<underscore]), owner)
    }

    init?(name: String, contents: Data) throws {
        guard let (type, owner) = Self.parseName(name) else { return nil }
        self.name = name
        self.owner = owner
        self.type = type
        let root = try JSONParser.parse(Array(contents))
        for (index, entry) in Self.entries(of: root).enumerated() {
            guard case .object(let object) = entry else {
                rejected.append("\(name) #\(index + 1): not an object")
                continue
            }
            guard let ask = Self.text(object["ask"]), !ask.isEmpty, let answer = Self.text(object["answer"]), !answer.isEmpty else {
                rejected.append("\(name) #\(index + 1): no ask or no answer")
                continue
            }
            pairs.append(Pair(
                id: Self.integer(object["id"]),
                owner: Self.integer(object["create_userId"]) ?? Self.integer(object["user_id"]) ?? owner,
                ask: ask, answer: answer, type: Self.text(object["type"]) ?? type,
                createTime: Self.time(object["create_time"]), updateTime: Self.time(object["update_time"])
            ))
        }
    }

    private static func entries(of root: JSONValue) -> [JSONValue] {
        switch root {
        case .array(let items): return items
        case .object(let object):
            for key in ["data", "list", "rows"] {
                if case .array(let items)? = object[key] { return items }
            }
            return object.members.map(\.value)
        default: return [root]
        }
    }

    private static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?: text
        case .integer(let number)?: String(number)
        default: nil
        }
    }

    private static func integer(_ value: JSONValue?) -> Int? {
        switch value {
        case .integer(let number)?: number > 0 && number <= Int64(UInt32.max) ? Int(number) : nil
        case .string(let text)?: Int(text).flatMap { $0 > 0 && $0 <= Int(UInt32.max) ? $0 : nil }
        default: nil
        }
    }

    /// `YYYY-MM-DD HH:mm:ss` (UTC for ISO-8601 and milliseconds), as the scripts write times.
    static func time(_ value: JSONValue?) -> String? {
        switch value {
        case .integer(let milliseconds)?:
            return format(Date(timeIntervalSince1970: Double(milliseconds) / 1000))
        case .string(let text)?:
            let utf8 = Array(text.utf8)
            guard utf8.count >= 19, utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-") else { return nil }
            if utf8[10] == UInt8(ascii: "T") {
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                if let date = formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text) { return format(date) }
            }
            return utf8[10] == UInt8(ascii: " ") ? String(decoding: utf8[0..<19], as: UTF8.self) : nil
        default:
            return nil
        }
    }

    private static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }
}
