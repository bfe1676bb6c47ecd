import RedisClient

/// One page of several indexes read as one: a tagged layout keeps one copy of each
/// console index per partition (users, usernames, nicknames, complaints), and a page
/// merges them in the same order and with the same offsets as one index's.
struct MergedIndexes: Sendable {
    let redis: RedisClient

    /// A member and the position of the index it came from.
    struct Member {
        let index: Int
        let value: RedisReply
    }

    /// Members `offset..<offset + count` of `indexes` merged in `inOrder`: each index's
    /// first `offset + count` (`read(index, start, count)`), merged. One index: its range
    /// read directly (the plain layout's one command).
    func page(
        _ indexes: [String], offset: Int, count: Int, read: (String, Int, Int) -> RedisCommand,
        inOrder: (RedisReply, RedisReply) -> Bool
    ) async throws -> [Member] {
        guard count > 0 else { return [] }
        if indexes.count == 1 {
            return (try await redis.send(read(indexes[0], offset, count)).throwingOnError().array ?? []).map { Member(index: 0, value: $0) }
        }
        let replies = try await redis.pipeline(indexes.map { read($0, 0, offset + count) })
        var members: [Member] = []
        for (index, reply) in replies.enumerated() {
            members += (try reply.throwingOnError().array ?? []).map { Member(index: index, value: $0) }
        }
        members.sort { inOrder($0.value, $1.value) }
        return Array(members.dropFirst(offset).prefix(count))
    }

    /// Newest first by score (= id): `ZREVRANGE`'s order of integer members.
    static func newestFirst(_ left: RedisReply, _ right: RedisReply) -> Bool {
        (left.integer ?? 0) > (right.integer ?? 0)
    }

    /// `ZREVRANGE index start start+count-1`.
    static func reverseRange(_ index: String, _ start: Int, _ count: Int) -> RedisCommand {
        RedisCommand("ZREVRANGE", index, String(start), String(start + count - 1))
    }
}
