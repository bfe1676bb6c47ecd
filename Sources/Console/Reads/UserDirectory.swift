import Model
import RedisClient

/// The paged list and search of chat users (docs/console.md, *Users*), on indexes only:
/// `chat:users` (every id, score = id) newest first; a search of digits is an id, else a
/// username prefix (`ZRANGEBYLEX` on `chat:user:names`) followed by a nickname prefix
/// (`chat:user:nicknames`, members `{nickname}\0{id}`). Rows come in one pipeline.
/// On a tagged layout each index is one per partition: the pages are read from every
/// partition's and merged, in the same order and with the same offsets as one index's.
struct UserDirectory: Sendable {
    let redis: RedisClient
    let keys: RedisKeys

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
            ids = try await merged.page(
                partitions.map(keys.users(partition:)), offset: paging.offset, count: paging.size + 1,
                read: MergedIndexes.reverseRange, inOrder: MergedIndexes.newestFirst
            ).compactMap { $0.value.integer.map(Int.init) }
        }
        return PageOf(readAhead: try await rows(ids), paging: paging)
    }

    /// The ids of page `paging` of the matches: the username matches first, then the
    /// nickname matches, each in byte order; `paging.size + 1` of them at most.
    private func search(prefix: String, paging: Paging) async throws -> [Int] {
        let low = Array("[".utf8) + Array(prefix.utf8)
        let high = Array("(".utf8) + Array(prefix.utf8) + [0xFF]  // UTF-8 never holds 0xFF
        let wanted = paging.size + 1
        let counts = try await redis.pipeline(partitions.map { RedisCommand("ZLEXCOUNT", keys.userNames(partition: $0), low, high) })
        var nameCount = 0
        for count in counts { nameCount += Int(try count.throwingOnError().integer ?? 0) }
        var ids: [Int] = []
        if paging.offset < nameCount {
            let names = try await merged.page(
                partitions.map(keys.userNames(partition:)), offset: paging.offset, count: wanted,
                read: { RedisCommand("ZRANGEBYLEX", $0, low, high, "LIMIT", String($1), String($2)) }, inOrder: Self.byteOrder
            ).map(\.value)
            let found = try await redis.pipeline(names.compactMap(\.string).map { RedisCommand("GET", keys.userByName($0)) })
            ids = found.compactMap { $0.integer.map(Int.init) }
        }
        if ids.count < wanted {
            let offset = max(0, paging.offset - nameCount)
            let members = try await merged.page(
                partitions.map(keys.userNicknames(partition:)), offset: offset, count: wanted - ids.count,
                read: { RedisCommand("ZRANGEBYLEX", $0, low, high, "LIMIT", String($1), String($2)) }, inOrder: Self.byteOrder
            ).map(\.value)
            for member in members {
                guard let bytes = member.bytes, let zero = bytes.lastIndex(of: 0),
                      let id = Int(String(decoding: bytes[(zero + 1)...], as: UTF8.self)), !ids.contains(id)
                else { continue }
                ids.append(id)
            }
        }
        return ids
    }

    private var partitions: Range<Int> { 0..<keys.layout.partitions }

    private var merged: MergedIndexes { MergedIndexes(redis: redis) }

    /// ZRANGEBYLEX's order: the members' bytes.
    private static func byteOrder(_ left: RedisReply, _ right: RedisReply) -> Bool {
        (left.bytes ?? []).lexicographicallyPrecedes(right.bytes ?? [])
    }

    /// The rows of `ids` in one pipeline, in order; ids without a row are left out.
    func rows(_ ids: [Int]) async throws -> [UserSummary] {
        let replies = try await redis.pipeline(ids.map { RedisCommand.texts("HMGET", [keys.user($0)] + UserSummary.fields) })
        return replies.compactMap { reply in UserSummary(values: (reply.array ?? []).map(\.string)) }
    }

    func user(_ id: Int) async throws -> UserSummary? {
        try await rows([id]).first
    }
}
