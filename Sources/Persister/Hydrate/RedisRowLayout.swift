import Model

/// How each entity's rows look in Redis, exactly as the scripts of `lua/` write them
/// (docs/architecture.md, *State in Redis*), so that `persister hydrate` gives the bridge what it
/// would have written itself.
struct RedisRowLayout: Sendable {
    enum Shape: Sendable {
        /// A hash of the non-null columns as text, plus `_v`.
        case hash
        /// JSON with these columns in this order (integers as numbers), plus `"_v"`.
        case json
    }

    let entity: Entity
    let columns: [String]
    let integerColumns: Set<String>
    let shape: Shape

    static let user = RedisRowLayout(
        entity: .user, columns: UserRow.columns, integerColumns: ["id", "invite_confirm", "status", "is_deleted", "order"], shape: .hash
    )
    static let userInfo = RedisRowLayout(
        entity: .userInfo,
        columns: ["id", "user_id", "gender", "birthday", "bio", "location", "website", "order", "create_time", "update_time"],
        integerColumns: ["id", "user_id", "order"], shape: .hash
    )
    static let goodfriend = RedisRowLayout(
        entity: .goodfriend,
        columns: ["id", "user_id", "friend_id", "nickname", "friendlookme", "melookfriend", "ismystarfriend", "isblack", "status", "order", "create_time", "update_time"],
        integerColumns: ["id", "user_id", "friend_id", "friendlookme", "melookfriend", "ismystarfriend", "isblack", "status", "order"],
        shape: .json
    )
    static let goodfriendapply = RedisRowLayout(
        entity: .goodfriendapply,
        columns: ["id", "user_id", "friend_id", "nickname", "status", "order", "create_time", "update_time"],
        integerColumns: ["id", "user_id", "friend_id", "order"], shape: .hash
    )
    static let group = RedisRowLayout(
        entity: .group,
        columns: ["id", "uuid", "user_id", "name", "avatar", "remark", "invite_confirm", "status", "order", "create_time", "update_time"],
        integerColumns: ["id", "user_id", "invite_confirm", "status", "order"], shape: .hash
    )
    static let groupUser = RedisRowLayout(
        entity: .groupUser,
        columns: ["id", "group_id", "user_id", "nickname", "avatar", "status", "order", "create_time", "update_time"],
        integerColumns: ["id", "group_id", "user_id", "status", "order"], shape: .json
    )

    static let block = RedisRowLayout(
        entity: .block, columns: ["id", "user_id", "blocked_id", "create_time"], integerColumns: ["id", "user_id", "blocked_id"],
        shape: .json
    )

    static let complaint = RedisRowLayout(
        entity: .complaint,
        columns: [
            "id", "user_id", "target_id", "target_type", "target_name", "reason", "content", "images", "complaint_chatinfo",
            "status", "admin_reply", "create_time", "update_time", "is_deleted",
        ],
        integerColumns: ["id", "user_id", "target_id", "status", "is_deleted"], shape: .hash
    )
    /// `lua/askanswer_change.lua`'s columns, JSON in the owner's hash.
    static let askanswer = RedisRowLayout(
        entity: .askanswer, columns: ["id", "user_id", "ask", "answer", "type", "create_time", "update_time"],
        integerColumns: ["id", "user_id"], shape: .json
    )
    static let admin = RedisRowLayout(
        entity: .admin, columns: ["id", "name", "password", "status", "create_time", "update_time"],
        integerColumns: ["id", "status"], shape: .hash
    )
    /// Not a row of its own in Redis: the newest rows, as JSON, in the audit list.
    static let adminAudit = RedisRowLayout(
        entity: .adminAudit, columns: ["id", "admin", "action", "target_type", "target_id", "detail", "address", "create_time"],
        integerColumns: ["id", "target_id"], shape: .json
    )

    /// The layouts hydrated row by row (the audit list is filled apart, newest rows only).
    static let all = [user, userInfo, goodfriend, goodfriendapply, group, groupUser, block, complaint, askanswer, admin]

    /// A MariaDB value as the bridge writes it: DATETIME(3) columns (times the bridge
    /// writes as ISO-8601 in UTC) back to `…T…Z`, other times as MariaDB prints them
    /// (`YYYY-MM-DD HH:mm:ss`, what the scripts write).
    static func redisText(_ value: String, kind: TableSchema.Column.Kind) -> String {
        guard case .dateTime(let precision) = kind, precision > 0, value.utf8.count >= 19 else { return value }
        var utf8 = Array(value.utf8)
        guard utf8[10] == UInt8(ascii: " ") else { return value }
        utf8[10] = UInt8(ascii: "T")
        return String(decoding: utf8, as: UTF8.self) + "Z"
    }

    /// The hash fields (non-null columns, then `_v`).
    func hashFields(_ values: [String: String], version: Int64) -> [String] {
        var fields: [String] = []
        fields.reserveCapacity(columns.count * 2 + 2)
        for column in columns {
            guard let value = values[column] else { continue }
            fields.append(column)
            fields.append(value)
        }
        fields.append("_v")
        fields.append(String(version))
        return fields
    }

    /// The JSON row with `"_v"` last (none when `version` is nil).
    func json(_ values: [String: String], version: Int64?) -> String {
        var object = JSONObject()
        for column in columns {
            guard let value = values[column] else {
                object[column] = .null
                continue
            }
            if integerColumns.contains(column), let number = Int64(value) {
                object[column] = .integer(number)
            } else {
                object[column] = .string(value)
            }
        }
        if let version { object["_v"] = .integer(version) }
        return JSONSerializer.string(.object(object))
    }
}
