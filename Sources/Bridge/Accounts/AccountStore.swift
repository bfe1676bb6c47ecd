import Foundation
import Model
import RedisClient

/// Accounts in Redis (DATA.md): the `chat:user:{id}` hashes, their unique indexes and the
/// token registry `chat_user_{id}`. Every change goes through a script of `lua/` that also
/// appends the entity event, so a change never exists without its event.
struct AccountStore: Sendable {
    enum RegistrationError: Error, Equatable {
        case usernameTaken
        case deviceTaken
    }

    enum LoginError: Error, Equatable {
        /// Disabled or gone since it was read (or, for changes that allow a disabled
        /// account, gone).
        case unavailable
        /// The password changed between the check and the write: try again.
        case passwordChanged
    }

    let scripts: RedisScripts
    var streamCap: Int = StreamName.defaultHardCap
    var redis: RedisClient { scripts.client }

    func user(id: Int) async throws -> UserRow? {
        let reply = try await redis.send("HGETALL", RedisKeys.user(id))
        return UserRow(hash: Self.dictionary(reply))
    }

    func user(named username: String) async throws -> UserRow? {
        guard let id = try await redis.send("GET", RedisKeys.userByName(username)).integer else { return nil }
        return try await user(id: Int(id))
    }

    func user(boundTo deviceID: String) async throws -> UserRow? {
        guard let id = try await redis.send("GET", RedisKeys.userByDevice(deviceID)).integer else { return nil }
        return try await user(id: Int(id))
    }

    /// Creates a user (and its `user_info` row) whose username nobody has; `device`
    /// binds the account to a device (visitors), claimed as atomically as the name.
    func register(
        username: String, passwordHash: String, avatar: String, role: Role, device: DeviceFields? = nil, now: Date
    ) async throws -> UserRow {
        let ids = try await redis.pipeline([
            RedisCommand("INCR", RedisKeys.idCounter("user")), RedisCommand("INCR", RedisKeys.idCounter("user_info")),
        ])
        guard let userID = ids[0].integer, let infoID = ids[1].integer else {
            throw RedisError.server(ids.compactMap(\.errorMessage).first ?? "INCR failed")
        }
        let created = TimeFormat.rowTime(now)
        var user = UserRow(
            id: Int(userID), uuid: UUID().uuidString.lowercased(), username: username, password: passwordHash,
            avatar: avatar, role: role, createTime: created, registerTime: TimeFormat.iso(now)
        )
        var keys: [any RedisArgument] = [
            RedisKeys.userByName(username), RedisKeys.userByUUID(user.uuid), RedisKeys.user(user.id),
            RedisKeys.userInfo(user.id), StreamName.entities, RedisKeys.userNames,
        ]
        if let device {
            device.apply(to: &user)
            keys.append(RedisKeys.userByDevice(device.deviceID))
        }
        let info: JSONValue = [
            "id": .integer(infoID), "user_id": .integer(userID), "gender": "unknown", "birthday": .null, "bio": "",
            "location": "", "website": "", "order": 50, "create_time": .string(created), "update_time": .string(created),
        ]
        let reply = try await scripts.run(
            "user_register",
            keys: keys,
            arguments: [
                String(userID), String(infoID), JSONSerializer.string(.object(user.json(includingPassword: true))),
                JSONSerializer.string(info), String(streamCap),
            ]
        )
        if reply.errorMessage?.contains("username_taken") == true { throw RegistrationError.usernameTaken }
        if reply.errorMessage?.contains("device_taken") == true { throw RegistrationError.deviceTaken }
        try reply.throwingOnError()
        return user
    }

    /// Records a login and makes `token` the account's only valid token.
    func recordLogin(
        of user: UserRow, token: String, verifiedHash: String, newHash: String?, now: Date
    ) async throws -> UserRow {
        var columns = [("last_login", TimeFormat.iso(now)), ("update_time", TimeFormat.rowTime(now))]
        if let newHash { columns.append(("password", newHash)) }
        return try await update(user, requireActive: true, verifiedHash: verifiedHash, token: token, columns: columns)
    }

    /// Changes columns of a user row (through `lua/user_update.lua`, which appends the
    /// entity event). `verifiedHash`: the change applies only if the password hash is
    /// still this one. `token`: stored as the account's only valid token. `newUsername`:
    /// claimed like a registration's, the old name released.
    func update(
        _ user: UserRow, requireActive: Bool, verifiedHash: String? = nil, token: String? = nil,
        newUsername: String? = nil, columns: [(String, String)]
    ) async throws -> UserRow {
        let keys: [any RedisArgument] = [
            RedisKeys.user(user.id), StreamName.entities, RedisKeys.userToken(user.id),
            RedisKeys.userByName(newUsername ?? user.username), RedisKeys.userByName(user.username), RedisKeys.userNames,
        ]
        var arguments: [any RedisArgument] = [
            String(streamCap), requireActive ? "1" : "0", verifiedHash ?? "", token ?? "", newUsername ?? "",
        ]
        for (column, value) in columns {
            arguments.append(column)
            arguments.append(value)
        }
        let reply = try await scripts.run("user_update", keys: keys, arguments: arguments)
        if let message = reply.errorMessage {
            if message.contains("unavailable") { throw LoginError.unavailable }
            if message.contains("password_changed") { throw LoginError.passwordChanged }
            if message.contains("username_taken") { throw RegistrationError.usernameTaken }
            throw RedisError.server(message)
        }
        guard let row = UserRow(hash: Self.dictionary(reply)) else { throw LoginError.unavailable }
        return row
    }

    func currentToken(of userID: Int) async throws -> String? {
        try await redis.send("GET", RedisKeys.userToken(userID)).string
    }

    func revokeToken(of userID: Int) async throws {
        try await redis.send("DEL", RedisKeys.userToken(userID)).throwingOnError()
    }

    /// A flat `HGETALL` reply as a dictionary.
    static func dictionary(_ reply: RedisReply) -> [String: String] {
        guard case .array(let items) = reply else { return [:] }
        var result: [String: String] = [:]
        var index = 0
        while index + 1 < items.count {
            if let key = items[index].string, let value = items[index + 1].string { result[key] = value }
            index += 2
        }
        return result
    }
}
