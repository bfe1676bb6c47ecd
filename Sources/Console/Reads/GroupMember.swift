import Model

/// A row of a group's members (`chat:group:{gid}:members`, JSON `group_user` rows).
struct GroupMember: Sendable {
    let userID: Int
    let nickname: String
    let status: Int
    let statusText: String
    let createTime: String

    init?(json text: String) {
        guard case .object(let row) = try? JSONParser.parse(text), case .integer(let user)? = row["user_id"] else { return nil }
        userID = Int(user)
        if case .string(let name)? = row["nickname"] { nickname = name } else { nickname = "" }
        if case .integer(let value)? = row["status"] { status = Int(value) } else { status = 1 }
        statusText = status == 1 ? "正常" : status == 2 ? "待审核" : "禁言"
        if case .string(let time)? = row["create_time"] { createTime = time } else { createTime = "" }
    }

    var json: JSONValue {
        ["user_id": .integer(Int64(userID)), "nickname": .string(nickname), "status": .integer(Int64(status)), "create_time": .string(createTime)]
    }
}
