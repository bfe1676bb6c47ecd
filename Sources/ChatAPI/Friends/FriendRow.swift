import Model

/// A `goodfriend` row: one direction of a friendship, owned by `user_id`, kept as JSON in
/// `chat:friends:{user_id}` (field: `friend_id`) with `_v`, its version, which the API
/// never shows. `lua/friend_*.lua` write it; the single-chat send path and the guidance
/// facts read `status`, `isblack` and `nickname` (the owner's remark) from it.
struct FriendRow: Sendable {
    /// The API's column order.
    static let columns = [
        "id", "user_id", "friend_id", "nickname", "friendlookme", "melookfriend", "ismystarfriend", "isblack", "status",
        "order", "create_time", "update_time",
    ]

    private let stored: JSONObject

    init?(_ bytes: [UInt8]) {
        guard case .object(let object) = try? JSONParser.parse(bytes), object["id"]?.integerValue != nil,
              object["friend_id"]?.integerValue != nil
        else { return nil }
        stored = object
    }

    var id: Int { Int(stored["id"]?.integerValue ?? 0) }
    var friendID: Int { Int(stored["friend_id"]?.integerValue ?? 0) }
    /// The owner's remark for the friend.
    var remark: String { stored["nickname"]?.stringValue ?? "" }
    var isBlacklisted: Bool { stored["isblack"]?.integerValue == 1 }
    /// `status 1` (an operator may block a friendship with another status).
    var isActive: Bool { stored["status"]?.integerValue == 1 }

    /// The row as the API shows it: the given columns in order, never `_v`.
    func json(_ columns: [String] = columns) -> JSONObject {
        var object = JSONObject()
        for column in columns { object[column] = stored[column] ?? .null }
        return object
    }
}
