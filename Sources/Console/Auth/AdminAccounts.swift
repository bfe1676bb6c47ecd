import ChatAPI
import ChatScripts
import Foundation
import LuaScripts
import Model
import RedisClient

/// The operators' accounts: `chat:admin:{name}` (`id`, `name`, `password` bcrypt,
/// `status` 1/0, times, `_v`), listed in `chat:admins` (on a tagged layout both in the
/// audit's slot: ``RedisKeys/admin(_:)``). Written only through
/// `lua/admin_account.lua` (`ChangeAdminAccount`), which also records the audit and the
/// entity event the persister keeps in `chat_admin`.
struct AdminAccounts: Sendable {
    let redis: RedisClient
    let keys: RedisKeys
    let hasher: PasswordHasher

    struct Account: Sendable, Equatable {
        let name: String
        let passwordHash: String
        let enabled: Bool
    }

    static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == 0x5F || byte == 0x2D || byte == 0x2E
        }
    }

    func find(_ name: String) async throws -> Account? {
        guard Self.isValidName(name) else { return nil }
        let fields = try await redis.send("HGETALL", keys.admin(name)).throwingOnError().fieldValues
        guard let stored = fields["name"], let hash = fields["password"] else { return nil }
        return Account(name: stored, passwordHash: hash, enabled: fields["status"] == "1")
    }

    /// Creates or changes the account from the command line (audited as the admin `cli`);
    /// `password` nil keeps the stored hash.
    func put(name: String, password: String?, enabled: Bool, streamCap: Int = StreamName.defaultHardCap) async throws {
        let hash = password.map { hasher.hash($0) }
        let scripts = RedisScripts(client: redis, scripts: LuaScripts.all.map { RedisScript(name: $0.name, source: $0.source) })
        let reply = try await scripts.run(ChangeAdminAccount(
            keys: keys, name: name, passwordHash: hash, enabled: enabled, audit: OperatorAudit(admin: "cli", address: "", now: TimeFormat.rowTime(Date())),
            streamCap: streamCap
        ))
        if case .refused(let refusal) = reply { throw refusal }
    }
}
