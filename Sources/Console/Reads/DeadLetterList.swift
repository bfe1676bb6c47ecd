import RedisClient

/// The dead letters newest first (`XREVRANGE`), paged: the page's entries are read after
/// the previous page's last id when the link carries it (`before`), else counted from
/// the newest (dead letters are few; a page number alone reads its predecessors).
struct DeadLetterList: Sendable {
    let redis: RedisClient

    func list(paging: Paging, before: String?) async throws -> PageOf<DeadLetter> {
        if let before, DeadLetter.isEntryID(before) {
            let reply = try await redis.send(
                "XREVRANGE", DeadLetter.stream, "(" + before, "-", "COUNT", String(paging.size + 1)
            ).throwingOnError()
            return PageOf(readAhead: (reply.array ?? []).compactMap(DeadLetter.init(entry:)), paging: paging)
        }
        let reply = try await redis.send(
            "XREVRANGE", DeadLetter.stream, "+", "-", "COUNT", String(paging.offset + paging.size + 1)
        ).throwingOnError()
        let entries = (reply.array ?? []).dropFirst(paging.offset).compactMap(DeadLetter.init(entry:))
        return PageOf(readAhead: entries, paging: paging)
    }

    func count() async throws -> Int {
        Int(try await redis.send("XLEN", DeadLetter.stream).throwingOnError().integer ?? 0)
    }

    func entry(_ id: String) async throws -> DeadLetter? {
        guard DeadLetter.isEntryID(id) else { return nil }
        let reply = try await redis.send("XRANGE", DeadLetter.stream, id, id).throwingOnError()
        return reply.array?.first.flatMap(DeadLetter.init(entry:))
    }

    /// The ids of up to `limit` dead letters, oldest first (replay all: in their order).
    func oldest(_ limit: Int) async throws -> [String] {
        let reply = try await redis.send("XRANGE", DeadLetter.stream, "-", "+", "COUNT", String(limit)).throwingOnError()
        return (reply.array ?? []).compactMap { $0.array?.first?.string }
    }
}
