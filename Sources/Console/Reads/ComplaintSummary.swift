import Model

/// A complaint as the console shows it: the `chat_complaint` row and its reporter.
struct ComplaintSummary: Sendable {
    static let fields = [
        "id", "user_id", "target_id", "target_type", "target_name", "reason", "content", "images", "complaint_chatinfo",
        "status", "admin_reply", "create_time", "update_time", "is_deleted",
    ]

    let id: Int
    let userID: Int
    let targetID: Int
    let targetType: String
    let targetName: String
    let reason: String
    let content: String
    let images: [String]
    let chatInfo: String
    let status: Int
    let statusText: String
    let adminReply: String
    let createTime: String
    let updateTime: String
    let isDeleted: Bool
    /// The reporter's username and nickname (filled in by a second read).
    var reporterName = ""
    var reporterNickname = ""
    /// `user` or `group`, in Chinese.
    let targetTypeText: String

    init?(values: [String?]) {
        guard values.count == Self.fields.count, let id = values[0].flatMap({ Int($0) }),
              let userID = values[1].flatMap({ Int($0) }) else { return nil }
        self.id = id
        self.userID = userID
        targetID = values[2].flatMap { Int($0) } ?? 0
        targetType = values[3] ?? ""
        targetName = values[4] ?? ""
        reason = values[5] ?? ""
        content = values[6] ?? ""
        images = (values[7] ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        chatInfo = values[8] ?? ""
        status = values[9].flatMap { Int($0) } ?? 0
        statusText = ComplaintStatus.label(status)
        adminReply = values[10] ?? ""
        createTime = values[11] ?? ""
        updateTime = values[12] ?? ""
        isDeleted = values[13] == "1"
        targetTypeText = targetType == "group" ? "群聊" : targetType == "user" ? "用户" : targetType
    }

    var json: JSONValue {
        [
            "id": .integer(Int64(id)), "user_id": .integer(Int64(userID)), "reporter_username": .string(reporterName),
            "reporter_nickname": .string(reporterNickname), "target_id": .integer(Int64(targetID)),
            "target_type": .string(targetType), "target_name": .string(targetName), "reason": .string(reason),
            "content": .string(content), "images": .array(images.map { .string($0) }), "complaint_chatinfo": .string(chatInfo),
            "status": .integer(Int64(status)), "admin_reply": .string(adminReply), "create_time": .string(createTime),
            "update_time": .string(updateTime), "is_deleted": .integer(isDeleted ? 1 : 0),
        ]
    }
}
