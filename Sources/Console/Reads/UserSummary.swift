import Model

/// A chat user as the console lists and edits it: the seed's columns, not the password.
struct UserSummary: Sendable, Equatable {
    static let fields = ["id", "username", "nickname", "avatar", "status", "is_deleted", "role", "create_time", "update_time"]

    let id: Int
    let username: String
    let nickname: String
    let avatar: String
    let status: Int
    let isDeleted: Bool
    let role: String
    let createTime: String
    let updateTime: String
    /// `启用`, `禁用` or `已删除`.
    let statusText: String
    let isActive: Bool

    /// From an `HMGET` of `fields`; nil when the row is gone.
    init?(values: [String?]) {
        guard values.count == Self.fields.count, let id = values[0].flatMap({ Int($0) }), let username = values[1] else { return nil }
        self.id = id
        self.username = username
        nickname = values[2] ?? ""
        avatar = values[3] ?? ""
        status = values[4].flatMap { Int($0) } ?? 0
        isDeleted = values[5] == "1"
        role = values[6] ?? ""
        createTime = values[7] ?? ""
        updateTime = values[8] ?? ""
        statusText = isDeleted ? "已删除" : status == 1 ? "启用" : "禁用"
        isActive = !isDeleted && status == 1
    }

    var json: JSONValue {
        [
            "id": .integer(Int64(id)), "username": .string(username), "nickname": .string(nickname),
            "avatar": .string(avatar), "status": .integer(Int64(status)), "is_deleted": .integer(isDeleted ? 1 : 0),
            "role": .string(role), "create_time": .string(createTime), "update_time": .string(updateTime),
        ]
    }
}
