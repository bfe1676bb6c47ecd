/// A `user` row (the old schema's columns), as kept in the Redis hash `chat:user:{id}`
/// and returned by the API. Nullable columns are absent from the hash when null.
public struct UserRow: Sendable, Hashable {
    public var id: Int
    public var uuid: String
    public var username: String
    public var password: String
    public var nickname: String
    public var avatar: String
    public var devicefingeruuid: String?
    public var uniplatform: String
    public var devicemodel: String
    public var deviceos: String
    public var devicebrand: String
    public var userset: String?
    public var inviteConfirm: Int
    public var mobile: String?
    public var email: String?
    public var status: Int
    public var lastLogin: String?
    public var lastLoginIP: String?
    public var registerTime: String?
    public var registerIP: String?
    public var isDeleted: Int
    /// What the account may do in the chat: `user` or `visitor`.
    public var role: Role
    /// The stored `role` is the old eggjs server's `admin` (the course's complaint admins).
    /// In the chat such an account acts as a user; the column keeps `admin`, so the row
    /// reads back (and the stream snapshot, the API) as it was stored. The operators'
    /// console has accounts of its own (`chat_admin`): this role grants nothing there.
    public var isLegacyAdmin = false
    public var order: Int
    public var createTime: String
    public var updateTime: String

    /// The API's column order (docs/api.md, "the login result").
    public static let columns = [
        "id", "uuid", "username", "password", "nickname", "avatar", "devicefingeruuid", "uniplatform", "devicemodel",
        "deviceos", "devicebrand", "userset", "invite_confirm", "mobile", "email", "status", "last_login", "last_login_ip",
        "register_time", "register_ip", "is_deleted", "role", "order", "create_time", "update_time",
    ]
    static let integerColumns: Set<String> = ["id", "invite_confirm", "status", "is_deleted", "order"]

    public init(
        id: Int, uuid: String, username: String, password: String, nickname: String = "", avatar: String,
        role: Role, status: Int = 1, createTime: String, registerTime: String? = nil, registerIP: String? = nil
    ) {
        self.id = id
        self.uuid = uuid
        self.username = username
        self.password = password
        self.nickname = nickname
        self.avatar = avatar
        self.devicefingeruuid = nil
        self.uniplatform = ""
        self.devicemodel = ""
        self.deviceos = ""
        self.devicebrand = ""
        self.userset = nil
        self.inviteConfirm = 0
        self.mobile = nil
        self.email = nil
        self.status = status
        self.lastLogin = nil
        self.lastLoginIP = nil
        self.registerTime = registerTime
        self.registerIP = registerIP
        self.isDeleted = 0
        self.role = role
        self.order = 50
        self.createTime = createTime
        self.updateTime = createTime
    }

    /// The stored `role` column that reads as a chat user besides `user` itself.
    public static let legacyAdminRole = "admin"

    /// From the hash's fields; nil when a required column is missing or malformed.
    /// `role` is `user`, `visitor`, or the old server's `admin` (a user here).
    public init?(hash: [String: String]) {
        guard let id = hash["id"].flatMap({ Int($0) }), let uuid = hash["uuid"], let username = hash["username"],
              let storedRole = hash["role"], let createTime = hash["create_time"]
        else { return nil }
        let isLegacyAdmin = storedRole == Self.legacyAdminRole
        guard let role = isLegacyAdmin ? .user : Role(rawValue: storedRole) else { return nil }
        self.init(
            id: id, uuid: uuid, username: username, password: hash["password"] ?? "", nickname: hash["nickname"] ?? "",
            avatar: hash["avatar"] ?? "", role: role, status: hash["status"].flatMap { Int($0) } ?? 0, createTime: createTime,
            registerTime: hash["register_time"], registerIP: hash["register_ip"]
        )
        devicefingeruuid = hash["devicefingeruuid"]
        uniplatform = hash["uniplatform"] ?? ""
        devicemodel = hash["devicemodel"] ?? ""
        deviceos = hash["deviceos"] ?? ""
        devicebrand = hash["devicebrand"] ?? ""
        userset = hash["userset"]
        inviteConfirm = hash["invite_confirm"].flatMap { Int($0) } ?? 0
        mobile = hash["mobile"]
        email = hash["email"]
        lastLogin = hash["last_login"]
        lastLoginIP = hash["last_login_ip"]
        isDeleted = hash["is_deleted"].flatMap { Int($0) } ?? 0
        order = hash["order"].flatMap { Int($0) } ?? 50
        updateTime = hash["update_time"] ?? createTime
        self.isLegacyAdmin = isLegacyAdmin
    }

    /// Every column in API order, `password` included only when asked for (the stream
    /// snapshot needs it; responses never carry it).
    public func json(includingPassword: Bool = false) -> JSONObject {
        var object = JSONObject()
        for column in Self.columns where includingPassword || column != "password" {
            object[column] = value(of: column)
        }
        return object
    }

    /// The given columns in the given order (the API's partial views of a user).
    public func json(_ columns: [String]) -> JSONObject {
        var object = JSONObject()
        for column in columns { object[column] = value(of: column) }
        return object
    }

    /// The non-null columns as text, for `HSET`.
    public var hashFields: [(String, String)] {
        Self.columns.compactMap { column in
            switch value(of: column) {
            case .string(let text): (column, text)
            case .integer(let number): (column, String(number))
            default: nil
            }
        }
    }

    private func value(of column: String) -> JSONValue {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        switch column {
        case "id": return .integer(Int64(id))
        case "uuid": return .string(uuid)
        case "username": return .string(username)
        case "password": return .string(password)
        case "nickname": return .string(nickname)
        case "avatar": return .string(avatar)
        case "devicefingeruuid": return text(devicefingeruuid)
        case "uniplatform": return .string(uniplatform)
        case "devicemodel": return .string(devicemodel)
        case "deviceos": return .string(deviceos)
        case "devicebrand": return .string(devicebrand)
        case "userset": return text(userset)
        case "invite_confirm": return .integer(Int64(inviteConfirm))
        case "mobile": return text(mobile)
        case "email": return text(email)
        case "status": return .integer(Int64(status))
        case "last_login": return text(lastLogin)
        case "last_login_ip": return text(lastLoginIP)
        case "register_time": return text(registerTime)
        case "register_ip": return text(registerIP)
        case "is_deleted": return .integer(Int64(isDeleted))
        case "role": return .string(isLegacyAdmin && role == .user ? Self.legacyAdminRole : role.rawValue)
        case "order": return .integer(Int64(order))
        case "create_time": return .string(createTime)
        case "update_time": return .string(updateTime)
        default: return .null
        }
    }
}
