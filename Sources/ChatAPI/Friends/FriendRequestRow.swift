import Model

/// A `goodfriendapply` row, kept as the hash `chat:apply:{id}` (plus `_v`).
struct FriendRequestRow: Sendable {
    static let columns = ["id", "user_id", "friend_id", "nickname", "status", "order", "create_time", "update_time"]
    private static let integerColumns: Set<String> = ["id", "user_id", "friend_id", "order"]

    let id: Int
    /// The applicant.
    let userID: Int
    /// Who the request is to.
    let friendID: Int
    let status: String
    let json: JSONObject

    /// From the hash's fields; nil when it is gone or malformed.
    init?(hash: [String: String]) {
        guard let id = hash["id"].flatMap({ Int($0) }), let userID = hash["user_id"].flatMap({ Int($0) }),
              let friendID = hash["friend_id"].flatMap({ Int($0) }), let status = hash["status"]
        else { return nil }
        var json = JSONObject()
        for column in Self.columns {
            guard let value = hash[column] else { continue }
            json[column] = Self.integerColumns.contains(column) ? Int64(value).map(JSONValue.integer) ?? .string(value) : .string(value)
        }
        (self.id, self.userID, self.friendID, self.status, self.json) = (id, userID, friendID, status, json)
    }
}
