import Model

/// A `chat_complaint` row, kept as the hash `chat:complaint:{id}` (its columns, NULL ones
/// absent, plus `_v`, which the API never shows). `lua/complaint_change.lua` writes it;
/// operators set `status` (1 processing, 2 resolved, 3 closed) and `admin_reply` through
/// the console (`lua/complaint_reply.lua`, docs/console.md).
struct ComplaintRow: Sendable {
    /// The table's columns, in order (the API's and the entity event's order).
    static let columns = [
        "id", "user_id", "target_id", "target_type", "target_name", "reason", "content", "images", "complaint_chatinfo",
        "status", "admin_reply", "create_time", "update_time", "is_deleted",
    ]
    private static let integerColumns: Set<String> = ["id", "user_id", "target_id", "status", "is_deleted"]

    let id: Int
    let userID: Int
    let isDeleted: Bool
    /// The columns in order, integers as numbers, NULL as null.
    let json: JSONObject

    /// From the hash's fields; nil when it is gone or malformed.
    init?(hash: [String: String]) {
        guard let id = hash["id"].flatMap({ Int($0) }), let userID = hash["user_id"].flatMap({ Int($0) }) else { return nil }
        var json = JSONObject()
        for column in Self.columns {
            guard let value = hash[column] else {
                json[column] = .null
                continue
            }
            json[column] = Self.integerColumns.contains(column) ? Int64(value).map(JSONValue.integer) ?? .string(value) : .string(value)
        }
        (self.id, self.userID, self.isDeleted, self.json) = (id, userID, hash["is_deleted"] != "0", json)
    }
}
