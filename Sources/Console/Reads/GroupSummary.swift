import Model

/// A group as the console lists it, with its member count.
struct GroupSummary: Sendable {
    static let fields = ["id", "name", "user_id", "avatar", "status", "create_time", "update_time"]

    let id: Int
    let name: String
    let ownerID: Int
    let avatar: String
    let status: Int
    let statusText: String
    let isActive: Bool
    let createTime: String
    let updateTime: String
    var members = 0

    init?(values: [String?]) {
        guard values.count == Self.fields.count, let id = values[0].flatMap({ Int($0) }) else { return nil }
        self.id = id
        name = values[1] ?? ""
        ownerID = values[2].flatMap { Int($0) } ?? 0
        avatar = values[3] ?? ""
        status = values[4].flatMap { Int($0) } ?? 0
        isActive = status == 1
        statusText = isActive ? "启用" : "禁用"
        createTime = values[5] ?? ""
        updateTime = values[6] ?? ""
    }

    var json: JSONValue {
        [
            "id": .integer(Int64(id)), "name": .string(name), "user_id": .integer(Int64(ownerID)), "avatar": .string(avatar),
            "status": .integer(Int64(status)), "members": .integer(Int64(members)), "create_time": .string(createTime),
            "update_time": .string(updateTime),
        ]
    }
}
