import ChatScripts
import Foundation
import Logging
import Model
import RedisClient

/// Registrations and renames on a tagged layout (docs/architecture.md, *Accounts on
/// partitions*): a unique name's claim is on its own slot, the account in its partition,
/// so they are steps — claim (pending, with a deadline), the partition's script, confirm.
///
/// What a crash leaves: after a claim, a pending claim that expires by itself; after the
/// partition's script, a pending claim that expires while the row and the partition's
/// index hold the name — the next lookup or claim of the name finds the holder in the
/// indexes and claims the name for it again (``indexedUser(named:claimedBy:)``); after a
/// rename's row, the old name's claim still names the account, whose row no longer holds
/// it: the next claim of that name checks the row and replaces the stale claim.
extension AccountStore {
    /// How long a claim lives before its registration confirms it: what a crash between
    /// the claim and the row holds the name for.
    static let pendingClaimMilliseconds = 60_000

    private static let logger = Logger(label: "bridge.accounts")

    func registerInSteps(
        _ user: UserRow, infoID: Int, deviceID: String?, userRow: String, infoRow: String, audit: OperatorAudit?
    ) async throws {
        let names: [ClaimUniqueName.Name] = [.username(user.username), .uuid(user.uuid)] + (deviceID.map { [.device($0)] } ?? [])
        var claimed: [ClaimUniqueName.Name] = []
        do {
            for name in names {
                try await claim(name, for: user.id)
                claimed.append(name)
            }
            // A name whose claim a crash lost is still in its holder's partition's index.
            if let holder = try await indexedHolder(named: user.username), holder.id != user.id {
                try await reclaim(.username(user.username), for: holder.id, replacing: user.id)
                claimed.removeAll { $0 == .username(user.username) }
                throw Refusal.usernameTaken
            }
            let reply = try await scripts.run(RegisterUserRows(
                keys: keys, userID: user.id, infoID: infoID, userRow: userRow, infoRow: infoRow, streamCap: streamCap
            ))
            if reply == .idTaken {
                throw RedisError.server("\(RegisterUser.Refusal.idTaken.rawValue): user \(user.id) or user_info \(infoID)")
            }
        } catch {
            for name in claimed {
                _ = try? await scripts.run(ClaimUniqueName(keys: keys, name: name, userID: user.id, .release))
            }
            throw error
        }
        for name in names { await confirm(name, for: user.id) }
        if let audit {
            let detail: JSONValue = ["username": .string(user.username), "nickname": .string(user.nickname)]
            _ = try await scripts.run(RecordAudit(
                keys: keys, audit: audit, streamCap: streamCap, action: "user.create", targetType: "user", targetID: user.id,
                detail: JSONSerializer.string(detail)
            ))
        }
    }

    /// An operator's rename (`admin_user_change`, edit) on a tagged layout: the new name
    /// claimed (pending) before the change, then `finish` with whether the change took it.
    package func claimForOperatorRename(_ username: String, of userID: Int) async throws {
        let name = ClaimUniqueName.Name.username(username)
        try await claim(name, for: userID)
        if let holder = try await indexedHolder(named: username), holder.id != userID {
            try await reclaim(name, for: holder.id, replacing: userID)
            throw Refusal.usernameTaken
        }
    }

    /// The rename's last step: the new claim confirmed and the old released (`renamed`),
    /// or the new claim released (the change did not happen).
    package func finishOperatorRename(from old: String, to new: String, of userID: Int, renamed: Bool) async {
        if renamed {
            await confirm(.username(new), for: userID)
        }
        let released = renamed ? old : new
        _ = try? await scripts.run(ClaimUniqueName(keys: keys, name: .username(released), userID: userID, .release))
    }

    /// A rename: the new name claimed, the row (and its partition's index) changed, the new
    /// claim confirmed and the old one released.
    func rename(
        _ user: UserRow, to newUsername: String, requireActive: Bool, verifiedHash: String?, token: String?,
        columns: [(String, String)], now: Date
    ) async throws -> UserRow {
        let name = ClaimUniqueName.Name.username(newUsername)
        try await claim(name, for: user.id)
        let reply: UpdateUser.Reply
        do {
            if let holder = try await indexedHolder(named: newUsername), holder.id != user.id {
                try await reclaim(name, for: holder.id, replacing: user.id)
                throw Refusal.usernameTaken
            }
            reply = try await scripts.run(UpdateUser(
                keys: keys, userID: user.id, username: user.username, streamCap: streamCap, requireActive: requireActive,
                verifiedHash: verifiedHash, token: token, newUsername: newUsername,
                columns: columns + [("update_time", TimeFormat.rowTime(now))]
            ))
        } catch {
            _ = try? await scripts.run(ClaimUniqueName(keys: keys, name: name, userID: user.id, .release))
            throw error
        }
        guard case .updated = reply else {
            _ = try? await scripts.run(ClaimUniqueName(keys: keys, name: name, userID: user.id, .release))
            return try Self.updated(reply)
        }
        await confirm(name, for: user.id)
        _ = try? await scripts.run(ClaimUniqueName(keys: keys, name: .username(user.username), userID: user.id, .release))
        return try Self.updated(reply)
    }

    /// Claims `name` for `userID` (pending). Held by another account: refused while that
    /// claim is pending or its account's row holds the name; a stale holder is replaced.
    private func claim(_ name: ClaimUniqueName.Name, for userID: Int) async throws {
        var replacing: Int?
        for _ in 0..<4 {
            let reply = try await scripts.run(ClaimUniqueName(
                keys: keys, name: name, userID: userID,
                .claim(pendingMilliseconds: Self.pendingClaimMilliseconds, replacing: replacing)
            ))
            switch reply {
            case .done: return
            case .changed: replacing = nil
            case .lost: throw RedisError.server("user_claim: unexpected reply to a claim")
            case .held(let holder, let remaining):
                guard remaining == nil, try await !holds(holder, name) else { throw Self.taken(name) }
                replacing = holder
            }
        }
        throw Self.taken(name)
    }

    /// Makes a pending claim final; one that expired meanwhile is claimed again.
    private func confirm(_ name: ClaimUniqueName.Name, for userID: Int) async {
        do {
            if try await scripts.run(ClaimUniqueName(keys: keys, name: name, userID: userID, .confirm)) == .lost {
                try await reclaim(name, for: userID, replacing: nil)
            }
        } catch {
            // The row holds the name: the next lookup or claim of it repairs the claim.
            Self.logger.warning("claim not confirmed", metadata: ["user": "\(userID)", "error": "\(error)"])
        }
    }

    /// The claim of `name` made `userID`'s again, final (a repair: the row holds it).
    private func reclaim(_ name: ClaimUniqueName.Name, for userID: Int, replacing: Int?) async throws {
        var replacing = replacing
        for _ in 0..<4 {
            let reply = try await scripts.run(ClaimUniqueName(
                keys: keys, name: name, userID: userID,
                .claim(pendingMilliseconds: Self.pendingClaimMilliseconds, replacing: replacing)
            ))
            switch reply {
            case .done:
                _ = try await scripts.run(ClaimUniqueName(keys: keys, name: name, userID: userID, .confirm))
                return
            case .held(let holder, _): replacing = holder
            case .changed: replacing = nil
            case .lost: return
            }
        }
    }

    /// Whether `userID`'s row holds `name` (a deleted account's too: its name stays reserved).
    private func holds(_ userID: Int, _ name: ClaimUniqueName.Name) async throws -> Bool {
        guard let row = try await user(id: userID) else { return false }
        switch name {
        case .username(let username): return row.username == username
        case .uuid(let uuid): return row.uuid == uuid
        case .device(let device): return row.devicefingeruuid == device
        }
    }

    private static func taken(_ name: ClaimUniqueName.Name) -> any Error {
        switch name {
        case .username: Refusal.usernameTaken
        case .device: Refusal.deviceTaken
        case .uuid: RedisError.server(RegisterUser.Refusal.uuidTaken.rawValue)
        }
    }

    /// The account whose row holds `username`, from the partitions' username → id hashes:
    /// one HGET per partition.
    func indexedHolder(named username: String) async throws -> UserRow? {
        let partitions = 0..<keys.layout.partitions
        let ids = try await redis.pipeline(partitions.map { RedisCommand("HGET", keys.userIDsByName(partition: $0), username) })
        for reply in ids {
            guard let text = reply.string, let id = Int(text), id > 0 else { continue }
            if let row = try await user(id: id), row.username == username { return row }
        }
        return nil
    }

    /// A lookup whose claim is missing or stale: the row that holds the name, its claim
    /// repaired.
    func indexedUser(named username: String, claimedBy claimed: Int?) async throws -> UserRow? {
        guard let row = try await indexedHolder(named: username) else { return nil }
        do {
            try await reclaim(.username(username), for: row.id, replacing: claimed)
        } catch {
            Self.logger.warning("claim not repaired", metadata: ["user": "\(row.id)", "error": "\(error)"])
        }
        return row
    }
}
