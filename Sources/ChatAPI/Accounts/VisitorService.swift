import ChatGateway
import Foundation
import Model
import RedisClient

/// The three visitor endpoints of docs/api.md: accounts bound to a device, signed requests.
package struct VisitorService: Sendable {
    static let missingSignature = "非法访问"
    static let badSignature = "非法签名"
    static let expired = "请求已过期"
    static let badDevice = "无效标识"
    /// `visitorRegister` for a device bound to a registered account (docs/api.md): a
    /// device id is no credential, so it never opens an account that has a password.
    static let deviceRegistered = "该设备已绑定注册账号，请使用账号密码登录"

    let accounts: AccountService
    let signature: VisitorSignature
    var maximumAge: Int64 = 300_000

    package init(accounts: AccountService, signature: VisitorSignature) {
        self.accounts = accounts
        self.signature = signature
    }

    var store: AccountStore { accounts.store }

    /// The checks after validation, in docs/api.md's order: signature, age, device id,
    /// calls per device, calls per client address.
    func check(
        sign: String, deviceID: String, timestamp: String, from address: ClientAddress?, now: Date = Date()
    ) async throws(APIFailure) {
        guard signature.isValid(sign, deviceID: deviceID, timestamp: timestamp) else { throw APIFailure(Self.badSignature) }
        let nowMilliseconds = Int64(now.timeIntervalSince1970 * 1000)
        guard let sent = Int64(timestamp), nowMilliseconds - sent <= maximumAge else { throw APIFailure(Self.expired) }
        guard Self.isDeviceID(deviceID) else { throw APIFailure(Self.badDevice) }
        try await accounts.limits.countVisitorCall(device: deviceID, from: address)
    }

    /// `^[\w-]{36}$` with JavaScript's ASCII `\w`.
    static func isDeviceID(_ text: String) -> Bool {
        text.utf8.count == 36 && text.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    /// `POST /api/visitorRegister`: the device's visitor account in visitor mode, created
    /// on the first call (`VIS` + the device id's first 8 characters, a random password).
    /// A device bound to a registered account (one that became a `user` through
    /// `visitorregChat`) is refused: the device id is sent in the clear and the signing
    /// salt ships in every client, so it must not open an account that has a password.
    func register(device: DeviceFields) async throws(APIFailure) -> JSONObject {
        for attempt in 0..<4 {
            let bound: UserRow?
            do { bound = try await store.user(boundTo: device.deviceID) } catch { throw APIFailure(AccountService.loginFailed) }
            if let bound {
                guard bound.role == .visitor else { throw APIFailure(Self.deviceRegistered) }
                // The device fields ride on the login's own write.
                return try await accounts.logIn(bound, columns: device.columns, visitorMode: true)
            }
            // Two devices can share a prefix: a longer one, then a random suffix.
            let prefix = String(device.deviceID.prefix(8 + attempt * 4))
            let username = "VIS" + (attempt < 3 ? prefix : prefix + String(Int.random(in: 1000...9999)))
            let digits = String(Int.random(in: 0...999_999))
            let password = String(repeating: "0", count: 6 - digits.count) + digits
            let hash = try await accounts.offload { accounts.hasher.hash(password) }
            let user: UserRow
            do {
                user = try await store.register(
                    username: username, passwordHash: hash, avatar: accounts.defaultAvatar, role: .visitor,
                    device: device, now: Date()
                )
            } catch AccountStore.Refusal.usernameTaken, AccountStore.Refusal.deviceTaken {
                continue  // another call bound the device meanwhile, or the name is taken
            } catch {
                throw APIFailure(AccountService.registrationFailed)
            }
            return try await accounts.logIn(user, visitorMode: true)
        }
        throw APIFailure(AccountService.registrationFailed)
    }

    /// `POST /api/visitorregChat`: the device's visitor account becomes a user account
    /// with this username and password, then logs in. A device without an account, or
    /// whose account is a registered `user` already (never renamed or given a new
    /// password by a device id alone), gets a new account, not bound to the device.
    func upgrade(username: String, password: String, device: DeviceFields) async throws(APIFailure) -> JSONObject {
        let user: UserRow
        do {
            if try await store.user(named: username) != nil { throw AccountStore.Refusal.usernameTaken }
            let hash = try await accounts.offload { accounts.hasher.hash(password) }
            if let bound = try await store.user(boundTo: device.deviceID), bound.role == .visitor {
                // Only while it is still this visitor: a concurrent upgrade changed the hash.
                user = try await store.update(
                    bound, requireActive: false, verifiedHash: bound.password, newUsername: username,
                    columns: [("password", hash), ("role", Role.user.rawValue)] + device.columns
                )
            } else {
                user = try await store.register(
                    username: username, passwordHash: hash, avatar: accounts.defaultAvatar, role: .user, now: Date()
                )
            }
        } catch AccountStore.Refusal.usernameTaken {
            throw APIFailure(AccountService.accountTaken)
        } catch let refusal as APIFailure {
            throw refusal  // no bcrypt slot
        } catch {
            throw APIFailure(AccountService.registrationFailed)
        }
        return try await accounts.logIn(user, visitorMode: false)
    }
}
