import ChatScripts
import Foundation
import Model
import RedisClient

/// Accounts in Redis (docs/architecture.md): the `chat:user:{id}` hashes, their unique indexes and the
/// token registry `chat_user_{id}`. Every change goes through a script of `lua/` that also
/// appends the entity event, so a change never exists without its event.
package struct AccountStore: Sendable {
    /// Why a script refused a change: the short codes of `lua/user_*.lua`.
    package enum Refusal: String, Error, Equatable, CaseIterable {
        case usernameTaken = "username_taken"
        case deviceTaken = "device_taken"
        /// Disabled or gone since it was read (or, for changes that allow a disabled
        /// account, gone).
        case unavailable
        /// The password changed between the check and the write: try again.
        case passwordChanged = "password_changed"
    }

    let scripts: RedisScripts
    /// The deployment's key layout: on a tagged one, registrations and renames are steps
    /// (AccountClaims.swift).
    package let keys: RedisKeys
    var streamCap: Int = StreamName.defaultHardCap

    package init(scripts: RedisScripts, keys: RedisKeys, streamCap: Int = StreamName.defaultHardCap) {
        self.scripts = scripts
        self.keys = keys
        self.streamCap = streamCap
    }
    var redis: RedisClient { scripts.client }

    func user(id: Int) async throws -> UserRow? {
        let reply = try await redis.send("HGETALL", keys.user(id))
        return UserRow(hash: reply.fieldValues)
    }

    /// On a tagged layout the claim is checked against the row, and a claim lost in a
    /// crash is found again in the partitions' indexes (and repaired).
    func user(named username: String) async throws -> UserRow? {
        let claimed = try await redis.send("GET", keys.userByName(username)).integer.map { Int($0) }
        guard keys.layout.isTagged else {
            guard let claimed else { return nil }
            return try await user(id: claimed)
        }
        if let claimed, let row = try await user(id: claimed), row.username == username { return row }
        return try await indexedUser(named: username, claimedBy: claimed)
    }

    func user(boundTo deviceID: String) async throws -> UserRow? {
        guard let id = try await redis.send("GET", keys.userByDevice(deviceID)).integer else { return nil }
        guard let row = try await user(id: Int(id)) else { return nil }
        // A tagged layout's claim may be stale (its registration crashed): the row decides.
        return !keys.layout.isTagged || row.devicefingeruuid == deviceID ? row : nil
    }

    /// Creates a user (and its `user_info` row) whose username nobody has; `device`
    /// binds the account to a device (visitors), claimed as atomically as the name.
    /// `audit`: an operator's creation from the console (audited `user.create`).
    func register(
        username: String, passwordHash: String, nickname: String = "", avatar: String, role: Role,
        device: DeviceFields? = nil, now: Date, audit: OperatorAudit? = nil
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
            nickname: nickname, avatar: avatar, role: role, createTime: created, registerTime: TimeFormat.iso(now)
        )
        if let device { device.apply(to: &user) }
        let info: JSONValue = [
            "id": .integer(infoID), "user_id": .integer(userID), "gender": "unknown", "birthday": .null, "bio": "",
            "location": "", "website": "", "order": 50, "create_time": .string(created), "update_time": .string(created),
        ]
        let userRow = JSONSerializer.string(.object(user.json(includingPassword: true)))
        if keys.layout.isTagged {
            try await registerInSteps(
                user, infoID: Int(infoID), deviceID: device?.deviceID, userRow: userRow, infoRow: JSONSerializer.string(info),
                audit: audit
            )
            return user
        }
        let reply = try await scripts.run(RegisterUser(
            keys: keys, userID: user.id, infoID: Int(infoID), username: username, uuid: user.uuid, deviceID: device?.deviceID,
            userRow: userRow, infoRow: JSONSerializer.string(info), streamCap: streamCap, audit: audit
        ))
        switch reply {
        case .registered: return user
        case .refused(.usernameTaken): throw Refusal.usernameTaken
        case .refused(.deviceTaken): throw Refusal.deviceTaken
        case .refused(.uuidTaken): throw RedisError.server(RegisterUser.Refusal.uuidTaken.rawValue)
        case .refused(.idTaken): throw RedisError.server("\(RegisterUser.Refusal.idTaken.rawValue): user \(userID) or user_info \(infoID)")
        }
    }

    /// The console's creation of a chat user: the registration's rows and script, audited
    /// as the operator's `user.create`.
    package func registerByOperator(
        username: String, passwordHash: String, nickname: String, avatar: String, audit: OperatorAudit
    ) async throws -> UserRow {
        try await register(
            username: username, passwordHash: passwordHash, nickname: nickname, avatar: avatar, role: .user, now: Date(),
            audit: audit
        )
    }

    /// Records a login, with any other columns to change in the same write, and makes
    /// `token` the account's only valid token.
    func recordLogin(
        of user: UserRow, token: String, verifiedHash: String?, columns: [(String, String)] = [], now: Date = Date()
    ) async throws -> UserRow {
        try await update(
            user, requireActive: true, verifiedHash: verifiedHash, token: token,
            columns: [("last_login", TimeFormat.iso(now))] + columns, now: now
        )
    }

    /// Changes columns of a user row (through `lua/user_update.lua`, which appends the
    /// entity event); `update_time` is always set. `verifiedHash`: the change applies only
    /// if the password hash is still this one. `token`: stored as the account's only
    /// valid token. `newUsername`: claimed like a registration's, the old name released.
    func update(
        _ user: UserRow, requireActive: Bool, verifiedHash: String? = nil, token: String? = nil,
        newUsername: String? = nil, columns: [(String, String)], now: Date = Date()
    ) async throws -> UserRow {
        if let newUsername, keys.layout.isTagged {
            return try await rename(
                user, to: newUsername, requireActive: requireActive, verifiedHash: verifiedHash, token: token, columns: columns,
                now: now
            )
        }
        let reply = try await scripts.run(UpdateUser(
            keys: keys, userID: user.id, username: user.username, streamCap: streamCap, requireActive: requireActive,
            verifiedHash: verifiedHash, token: token, newUsername: newUsername,
            columns: columns + [("update_time", TimeFormat.rowTime(now))]
        ))
        return try Self.updated(reply)
    }

    static func updated(_ reply: UpdateUser.Reply) throws -> UserRow {
        switch reply {
        case .updated(let row):
            guard let row = UserRow(hash: row) else { throw Refusal.unavailable }
            return row
        case .refused(.unavailable): throw Refusal.unavailable
        case .refused(.passwordChanged): throw Refusal.passwordChanged
        case .refused(.usernameTaken): throw Refusal.usernameTaken
        }
    }
}
