import ChatScripts
import Foundation
import Model
import RedisClient

/// Question/answer pairs in Redis (docs/api.md, *Complaints and Q&A*): each user's `askanswer` rows as JSON
/// in `chat:user:{uid}:askanswers`, and `chat:askanswer:{id}` → owner. Every change goes
/// through `lua/askanswer_change.lua`, which appends the entity event in the same step.
package struct AskAnswerStore: Sendable {
    /// Why the script refused a change: its error codes.
    typealias Refusal = ChangeAskAnswer.Refusal

    /// Rows a user may have: the auto reply scores them all for every question, and
    /// `list` answers them whole.
    static let perUserCap = 200

    let scripts: RedisScripts
    let streamCap: Int
    /// The layout's names: a user's pairs and their owner keys are in the user's partition.
    let keys: RedisKeys

    package init(scripts: RedisScripts, streamCap: Int, keys: RedisKeys) {
        self.scripts = scripts
        self.streamCap = streamCap
        self.keys = keys
    }
    var redis: RedisClient { scripts.client }

    /// Every row of a user, oldest first.
    func rows(of user: Int) async throws -> [AskAnswerRow] {
        let values = try await redis.send("HVALS", keys.askAnswersOfUser(user)).throwingOnError().array ?? []
        return values.compactMap { $0.bytes.flatMap(AskAnswerRow.init) }.sorted { $0.id < $1.id }
    }

    /// A row by id, whoever's it is.
    func row(_ id: Int) async throws -> AskAnswerRow? {
        // The owner key is in the owner's partition, which the id does not tell: ask every one.
        let candidates = keys.askAnswerOwnerCandidates(id)
        let owners = candidates.count == 1
            ? [try await redis.send("GET", candidates[0])]
            : try await redis.pipeline(candidates.map { RedisCommand("GET", $0) })
        guard let owner = try owners.lazy.compactMap({ try $0.throwingOnError().string.flatMap { Int($0) } }).first else {
            return nil
        }
        return try await redis.send("HGET", keys.askAnswersOfUser(owner), String(id)).throwingOnError().bytes.flatMap(AskAnswerRow.init)
    }

    /// `askanswer/create`: a new row of mine. Throws `.full`.
    func create(ask: String, answer: String, type: String, by me: Int, now: Date) async throws -> AskAnswerRow {
        guard let id = try await redis.send("INCR", RedisKeys.idCounter("askanswer")).throwingOnError().integer else {
            throw RedisError.server("INCR failed")
        }
        return try await change(.create(ask: ask, answer: answer, type: type, limit: Self.perUserCap), Int(id), by: me, now: now)
    }

    /// `askanswer/update`: sets the given columns (`ask`, `answer`, `type`) of my row.
    /// Throws `.missing`.
    func update(_ id: Int, by me: Int, changes: JSONObject, now: Date) async throws -> AskAnswerRow {
        try await change(.update(changes: JSONSerializer.string(.object(changes))), id, by: me, now: now)
    }

    /// `askanswer/delete`: removes my row; returns it as it was. Throws `.missing`.
    @discardableResult
    func delete(_ id: Int, by me: Int, now: Date) async throws -> AskAnswerRow {
        try await change(.delete, id, by: me, now: now)
    }

    private func change(_ operation: ChangeAskAnswer.Operation, _ id: Int, by me: Int, now: Date) async throws -> AskAnswerRow {
        let reply = try await scripts.run(ChangeAskAnswer(id, by: me, operation, keys: keys, streamCap: streamCap, now: TimeFormat.rowTime(now)))
        switch reply {
        case .refused(let refusal):
            throw refusal
        case .row(let json):
            guard let row = AskAnswerRow(json) else { throw RedisError.server("askanswer_change: unreadable row") }
            return row
        }
    }
}

extension ChangeAskAnswer.Refusal: ScriptRefusal {}
