import Model

/// A `group` row, as kept in the hash `chat:group:{gid}` (its columns + `_v`, which the
/// API never shows; `remark` absent while null) and written by `lua/group_update.lua`.
struct GroupRow: Sendable, Equatable {
    /// The table's column order, which the API keeps.
    static let columns = [
        "id", "uuid", "user_id", "name", "avatar", "remark", "invite_confirm", "status", "order", "create_time", "update_time",
    ]
    static let integerColumns: Set<String> = ["id", "user_id", "invite_confirm", "status", "order"]

    private let stored: JSONObject

    /// From the hash's fields (`HGETALL`); nil for a missing group.
    init?(hash: [String: String]) {
        guard let id = hash["id"].flatMap({ Int64($0) }), hash["user_id"].flatMap({ Int64($0) }) != nil else { return nil }
        var object = JSONObject()
        for column in Self.columns {
            guard let text = hash[column] else {
                object[column] = .null
                continue
            }
            object[column] = Self.integerColumns.contains(column) ? .integer(Int64(text) ?? 0) : .string(text)
        }
        object["id"] = .integer(id)
        stored = object
    }

    /// From the JSON the script answers (the API columns).
    init?(json bytes: [UInt8]) {
        guard case .object(let object) = try? JSONParser.parse(bytes), object["id"]?.integerValue != nil else { return nil }
        stored = object
    }

    var id: Int { Int(stored["id"]?.integerValue ?? 0) }
    var ownerID: Int { Int(stored["user_id"]?.integerValue ?? 0) }
    var name: String { stored["name"]?.stringValue ?? "" }
    var avatar: String { stored["avatar"]?.stringValue ?? "" }
    var status: Int { Int(stored["status"]?.integerValue ?? 0) }
    var isActive: Bool { status == 1 }

    /// The given columns in order.
    func json(_ columns: [String] = columns) -> JSONObject {
        var object = JSONObject()
        for column in columns { object[column] = stored[column] ?? .null }
        return object
    }

    /// The compact group object of message objects (docs/api.md, **Fix**: no members).
    var compact: JSONValue {
        .object(json(["id", "name", "avatar", "user_id", "remark", "invite_confirm"]))
    }
}
