import ChatAPI
import ChatScripts
import Foundation
import Logging
import Model
import RedisClient

/// Every change the console makes, each through its script (docs/scripts.md), which
/// writes the row, its entity event (so MariaDB follows through the persister) and the
/// audit row in one step; on a tagged layout the audit row is a step of its own after the
/// change's run (``RecordAudit``: a crash between leaves the change without its audit
/// row, docs/architecture.md). A refusal is thrown as the `FlashMessage.Failure` the page
/// shows; Redis' failures are thrown as they are.
struct OperatorActions: Sendable {
    /// The avatar of accounts created without one (the bridge's default for registrations).
    static let defaultAvatar = "https://docs-51yrc-com.oss-cn-hangzhou.aliyuncs.com/chat/user.jpg"
    /// Dead letters replayed by one "replay all" at most (the rest wait for the next).
    static let replayAllLimit = 1000

    let scripts: RedisScripts
    let accounts: AccountStore
    let hasher: PasswordHasher
    let work: PasswordWork
    let users: UserDirectory
    let complaints: ComplaintDirectory
    let deadLetters: DeadLetterList
    let streamCap: Int
    /// A process silent this long gets no kicks (they would wait in its stream for nobody).
    let deadAfterMilliseconds: Int64
    let logger: Logger

    typealias Refusal = FlashMessage.Failure

    // MARK: users

    /// Creates a chat user as `regChat` would (the same script and rows), audited as `user.create`.
    func createUser(_ form: UserForm, by audit: OperatorAudit) async throws -> Int {
        let username = try form.username()
        guard let password = try form.password() else { throw Refusal.passwordLength }
        let nickname = try form.nickname() ?? ""
        let avatar = try form.avatar() ?? Self.defaultAvatar
        let hash = try await bcrypt(password)
        do {
            let user = try await accounts.registerByOperator(
                username: username, passwordHash: hash, nickname: nickname, avatar: avatar, audit: audit
            )
            return user.id
        } catch AccountStore.Refusal.usernameTaken {
            throw Refusal.usernameTaken
        }
    }

    /// Changes the columns the form sets; an empty password keeps the password.
    func editUser(_ id: Int, _ form: UserForm, by audit: OperatorAudit) async throws {
        let username = try form.username()
        let nickname = try form.nickname() ?? ""
        let avatar = try form.avatar() ?? ""
        var hash: String?
        if let password = try form.password() { hash = try await bcrypt(password) }
        for _ in 0..<3 {  // a rename between the read and the write: read again
            guard let current = try await users.user(id) else { throw Refusal.userMissing }
            guard !current.isDeleted else { throw Refusal.deleted }
            var changes = ChangeUserByOperator.Changes(passwordHash: hash)
            if username != current.username { changes.username = username }
            if nickname != current.nickname { changes.nickname = nickname }
            if avatar != current.avatar { changes.avatar = avatar }
            // A tagged layout claims the new name in a step of its own, before the change.
            let claims = accounts.keys.layout.isTagged ? changes.username : nil
            if let claims {
                do {
                    try await accounts.claimForOperatorRename(claims, of: id)
                } catch AccountStore.Refusal.usernameTaken {
                    throw Refusal.usernameTakenByOther
                }
            }
            let reply = try await scripts.run(ChangeUserByOperator(
                keys: accounts.keys, user: id, .edit(currentUsername: current.username, changes), audit: audit,
                streamCap: streamCap, deadAfterMilliseconds: deadAfterMilliseconds
            ))
            if let claims {
                await accounts.finishOperatorRename(from: current.username, to: claims, of: id, renamed: reply.isChange)
            }
            try await auditIfUnaudited(reply, user: id, by: audit)
            switch reply {
            case .changed, .changedUnaudited: return
            case .refused(.stale): continue
            case .refused(.missing): throw Refusal.userMissing
            case .refused(.usernameTaken): throw Refusal.usernameTakenByOther
            }
        }
        throw Refusal.failed
    }

    enum UserStatusChange: String, Sendable {
        case disable, enable, delete
    }

    /// Disable (the sessions end and the sockets are kicked at once), enable, or delete
    /// for good (docs/console.md, *Deleting a user*).
    func changeUser(_ id: Int, _ change: UserStatusChange, by audit: OperatorAudit) async throws {
        let operation: ChangeUserByOperator.Operation = switch change {
        case .disable: .disable
        case .enable: .enable
        case .delete: .delete
        }
        let reply = try await scripts.run(ChangeUserByOperator(
            keys: accounts.keys, user: id, operation, audit: audit, streamCap: streamCap,
            deadAfterMilliseconds: deadAfterMilliseconds
        ))
        try await auditIfUnaudited(reply, user: id, by: audit)
        switch reply {
        case .changed(_, let kicks), .changedUnaudited(_, let kicks, _, _):
            logger.info("user changed", metadata: ["user": "\(id)", "change": "\(change.rawValue)", "kicks": "\(kicks)", "admin": "\(audit.admin)"])
        case .refused(.missing): throw Refusal.userMissing
        case .refused: throw Refusal.failed
        }
    }

    /// A tagged layout's change of a user: its audit row, the step after the change's run.
    private func auditIfUnaudited(_ reply: ChangeUserByOperator.Reply, user: Int, by audit: OperatorAudit) async throws {
        guard case .changedUnaudited(_, _, let action, let detail) = reply else { return }
        try await record(action, target: "user", id: user, detail: detail, by: audit)
    }

    /// A tagged layout's audit row, the step after the change's own run.
    private func record(_ action: String, target: String, id: Int?, detail: String, by audit: OperatorAudit) async throws {
        _ = try await scripts.run(RecordAudit(
            keys: accounts.keys, audit: audit, streamCap: streamCap, action: action, targetType: target, targetID: id,
            detail: detail
        ))
    }

    // MARK: complaints, groups

    func replyToComplaint(_ id: Int, status: String?, reply: String?, by audit: OperatorAudit) async throws {
        guard let status = status.flatMap({ Int($0) }).flatMap(ComplaintStatus.init(rawValue:)) else { throw Refusal.statusInvalid }
        let text = reply?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard StoredLimits.Console.adminReply.admits(text) else { throw Refusal.replyLength }
        guard let partition = try await complaints.partition(of: id) else { throw Refusal.missing }
        let answer = try await scripts.run(ReplyToComplaint(
            keys: accounts.keys, id, partition: partition, status: status.rawValue, reply: text, audit: audit, streamCap: streamCap
        ))
        switch answer {
        case .version: return
        case .changedUnaudited(_, let action, let detail): try await record(action, target: "complaint", id: id, detail: detail, by: audit)
        case .refused: throw Refusal.missing
        }
    }

    func changeGroup(_ id: Int, enabled: Bool, by audit: OperatorAudit) async throws {
        guard accounts.keys.layout.isTagged else {
            let reply = try await scripts.run(ChangeGroupStatus(group: id, enabled: enabled, audit: audit, streamCap: streamCap))
            if case .refused = reply { throw Refusal.missing }
            return
        }
        // A tagged layout: the group's step (row, pending record), the audit row (a step of
        // its own, on the audit's slot), then each member partition's active groups.
        let steps = GroupChangeSteps(scripts: scripts, keys: accounts.keys, streamCap: streamCap)
        let change = UUID().uuidString
        guard case .status(let members, _) = try await steps.first(.status(enabled: enabled), group: id, by: 0, change: change, now: audit.now)
        else { throw Refusal.missing }
        _ = try await scripts.run(RecordAudit(
            keys: accounts.keys, audit: audit, streamCap: streamCap, action: enabled ? "group.enable" : "group.disable",
            targetType: "group", targetID: id, detail: "{}"
        ))
        if !members.isEmpty { try await steps.finish(change, group: id, members: members) }
    }

    // MARK: dead letters

    /// Puts the entry back on the stream it came from (its fields as they were), then
    /// removes the dead letter; a `stream` that is not one of the layout's streams or
    /// shards is refused as missing. On a tagged layout in three steps, each on its slot: the fields appended to the
    /// shard the entry came from, the dead letter removed, the audit row. A crash after
    /// the first leaves the entry on its shard and the dead letter listed: replaying it
    /// again appends it once more, which the persister's idempotent writes absorb.
    func replay(_ id: String, by audit: OperatorAudit) async throws {
        guard let letter = try await deadLetters.entry(id), !letter.stream.isEmpty else { throw Refusal.missing }
        let keys = accounts.keys
        // Only a stream the scripts write (one of this layout's shards), never another key.
        guard keys.allStreamShards.contains(where: { $0.all.contains(letter.stream) }), !letter.fields.isEmpty else {
            throw Refusal.missing
        }
        guard keys.layout.isTagged else {
            let reply = try await scripts.run(ChangeDeadLetter(
                keys: keys, entry: id, .replay(stream: letter.stream), audit: audit, streamCap: streamCap
            ))
            if case .refused = reply { throw Refusal.missing }
            return
        }
        var append: [any RedisArgument] = [letter.stream, "MAXLEN", "~", String(streamCap), "*"]
        for field in letter.fields {
            append.append(field.name)
            append.append(field.value)
        }
        guard let entry = try await deadLetters.redis.send(RedisCommand("XADD", append)).throwingOnError().string else {
            throw Refusal.failed
        }
        let reply = try await scripts.run(ChangeDeadLetter(
            keys: keys, entry: id, .replayed(stream: letter.stream, entry: entry), audit: audit, streamCap: streamCap
        ))
        try await recordUnaudited(reply, by: audit)
    }

    func drop(_ id: String, by audit: OperatorAudit) async throws {
        guard DeadLetter.isEntryID(id) else { throw Refusal.missing }
        let reply = try await scripts.run(ChangeDeadLetter(keys: accounts.keys, entry: id, .drop, audit: audit, streamCap: streamCap))
        try await recordUnaudited(reply, by: audit)
    }

    /// A dead letter's change: refused as missing, or (tagged layout) its audit row.
    private func recordUnaudited(_ reply: ChangeDeadLetter.Reply, by audit: OperatorAudit) async throws {
        switch reply {
        case .replayed, .dropped: return
        case .changedUnaudited(_, let action, let detail): try await record(action, target: "deadletter", id: nil, detail: detail, by: audit)
        case .refused: throw Refusal.missing
        }
    }

    /// Replays the oldest dead letters, at most `replayAllLimit`; returns how many.
    func replayAll(by audit: OperatorAudit) async throws -> Int {
        var replayed = 0
        for id in try await deadLetters.oldest(Self.replayAllLimit) {
            do {
                try await replay(id, by: audit)
                replayed += 1
            } catch Refusal.missing {
                continue  // dropped or replayed by someone else meanwhile
            }
        }
        return replayed
    }

    private func bcrypt(_ password: String) async throws -> String {
        let hasher = hasher
        return try await work.run { hasher.hash(password) }
    }
}

extension FlashMessage.Failure: Error {}
