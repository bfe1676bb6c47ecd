import Model

/// A `group_user` row, kept as JSON in `chat:group:{gid}:members` (field: the member's
/// uid) with `_v`, its version, which the API never shows.
struct GroupMemberRow: Sendable, Equatable {
    /// The table's column order.
    static let columns = ["id", "group_id", "user_id", "nickname", "avatar", "status", "order", "create_time", "update_time"]

    /// `group_user.status`.
    enum Status: Int, Sendable {
        case muted = 0
        case active = 1
        case waiting = 2
    }

    private let stored: JSONObject

    init?(_ bytes: [UInt8]) {
        guard case .object(let object) = try? JSONParser.parse(bytes), object["id"]?.integerValue != nil,
              object["user_id"]?.integerValue != nil
        else { return nil }
        stored = object
    }

    var id: Int { Int(stored["id"]?.integerValue ?? 0) }
    var userID: Int { Int(stored["user_id"]?.integerValue ?? 0) }
    /// The member's name in the group ('' when unset).
    var nickname: String { stored["nickname"]?.stringValue ?? "" }
    var avatar: String { stored["avatar"]?.stringValue ?? "" }
    var status: Status? { stored["status"]?.integerValue.flatMap { Status(rawValue: Int($0)) } }

    /// The given columns in order, never `_v`.
    func json(_ columns: [String] = columns) -> JSONObject {
        var object = JSONObject()
        for column in columns { object[column] = stored[column] ?? .null }
        return object
    }

    /// How the group shows `user`: the group nickname, else nickname or username.
    func displayName(of user: UserRow) -> String { nickname.isEmpty ? user.displayName : nickname }
    /// The group avatar, else the user's.
    func displayAvatar(of user: UserRow) -> String { avatar.isEmpty ? user.avatar : avatar }
}
