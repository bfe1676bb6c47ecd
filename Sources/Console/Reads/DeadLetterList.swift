import RedisClient

/// The dead letters newest first (`XREVRANGE`), paged: the page's entries are read after
/// the previous page's last id when the link carries it (`before`), else counted from
/// the newest: a page number alone reads its predecessors, so numbered pages stop at
/// `deepestNumberedPage` (a page number typed by hand deeper than that shows that page;
/// the pages' own links carry the cursor and reach any depth at the same cost).
struct DeadLetterList: Sendable {
    /// 50 pages of 20: at most 1,000 entries read for one page (docs/benchmarks.md,
    /// *Console at size*: page 1,500 by number cost 320–430 ms).
    static let deepestNumberedPage = 50

    let redis: RedisClient

    func list(paging requested: Paging, before: String?) async throws -> PageOf<DeadLetter> {
        var paging = requested
        if let before, DeadLetter.isEntryID(before) {
            let reply = try await redis.send(
                "XREVRANGE", DeadLetter.stream, "(" + before, "-", "COUNT", String(paging.size + 1)
            ).throwingOnError()
            return PageOf(readAhead: (reply.array ?? []).compactMap(DeadLetter.init(entry:)), paging: paging)
        }
        if paging.page > Self.deepestNumberedPage {
            paging = Paging(page: Self.deepestNumberedPage, size: paging.size)
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
