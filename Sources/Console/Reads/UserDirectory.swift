import Model
import RedisClient

/// The paged list and search of chat users (docs/console.md, *Users*), on indexes only:
/// `chat:users` (every id, score = id) newest first; a search of digits is an id, else a
/// username prefix (`ZRANGEBYLEX` on `chat:user:names`) followed by a nickname prefix
/// (`chat:user:nicknames`, members `{nickname}\0{id}`). Rows come in one pipeline.
struct UserDirectory: Sendable {
    let redis: RedisClient

    func list(query: String?, paging: Paging) async throws -> PageOf<UserSummary> {
        let ids: [Int]
        if let query, !query.isEmpty {
            if query.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
                ids = Int(query).map { [$0] } ?? []
                let rows = try await rows(ids)
                return PageOf(readAhead: paging.page == 1 ? rows : [], paging: paging)
            }
            ids = try await search(prefix: query, paging: paging)
        } else {
            let reply = try await redis.send(
                "ZREVRANGE", RedisKeys.users, String(paging.offset), String(paging.offset + paging.size)
            ).throwingOnError()
            ids = reply.ids
        }
        return PageOf(readAhead: try await rows(ids), paging: paging)
    }

    /// The ids of page `paging` of the matches: the username matches first, then the
    /// nickname matches, each in byte order; `paging.size + 1` of them at most.
    private func search(prefix: String, paging: Paging) async throws -> [Int] {
        let low = Array("[".utf8) + Array(prefix.utf8)
        let high = Array("(".utf8) + Array(prefix.utf8) + [0xFF]  // UTF-8 never holds 0xFF
        let wanted = paging.size + 1
        let nameCount = Int(try await redis.send("ZLEXCOUNT", RedisKeys.userNames, low, high).throwingOnError().integer ?? 0)
        var ids: [Int] = []
        if paging.offset < nameCount {
            let names = try await redis.send(
                "ZRANGEBYLEX", RedisKeys.userNames, low, high, "LIMIT", String(paging.offset), String(wanted)
            ).throwingOnError().array ?? []
            let found = try await redis.pipeline(names.compactMap(\.string).map { RedisCommand("GET", RedisKeys.userByName($0)) })
            ids = found.compactMap { $0.integer.map(Int.init) }
        }
        if ids.count < wanted {
            let offset = max(0, paging.offset - nameCount)
            let members = try await redis.send(
                "ZRANGEBYLEX", RedisKeys.userNicknames, low, high, "LIMIT", String(offset), String(wanted - ids.count)
            ).throwingOnError().array ?? []
            for member in members {
                guard let bytes = member.bytes, let zero = bytes.lastIndex(of: 0),
                      let id = Int(String(decoding: bytes[(zero + 1)...], as: UTF8.self)), !ids.contains(id)
                else { continue }
                ids.append(id)
            }
        }
        return ids
    }

    /// The rows of `ids` in one pipeline, in order; ids without a row are left out.
    func rows(_ ids: [Int]) async throws -> [UserSummary] {
        let replies = try await redis.pipeline(ids.map { RedisCommand.texts("HMGET", [RedisKeys.user($0)] + UserSummary.fields) })
        return replies.compactMap { reply in UserSummary(values: (reply.array ?? []).map(\.string)) }
    }

    func user(_ id: Int) async throws -> UserSummary? {
        try await rows([id]).first
    }
}
