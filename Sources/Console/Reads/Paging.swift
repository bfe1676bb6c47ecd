/// Which page of a list a request asks for: `page` from 1, `size` rows (the pages 20, the
/// JSON API's `size` up to 100).
struct Paging: Sendable, Equatable {
    static let defaultSize = 20
    static let maximumSize = 100
    /// Deeper pages show the last allowed one: a search's page costs its offset in Redis.
    static let maximumPage = 100_000

    let page: Int
    let size: Int

    var offset: Int { (page - 1) * size }

    init(page: Int = 1, size: Int = Paging.defaultSize) {
        self.page = min(max(1, page), Self.maximumPage)
        self.size = min(max(1, size), Self.maximumSize)
    }

    init(query: [String: String]) {
        self.init(
            page: query["page"].flatMap { Int($0) } ?? 1,
            size: query["size"].flatMap { Int($0) } ?? Self.defaultSize
        )
    }
}

/// One page of rows, and whether another follows (one row more than the page is read).
struct PageOf<Row: Sendable>: Sendable {
    var rows: [Row]
    let paging: Paging
    let hasNext: Bool

    /// From `paging.size + 1` rows read.
    init(readAhead rows: [Row], paging: Paging) {
        self.rows = Array(rows.prefix(paging.size))
        self.paging = paging
        hasNext = rows.count > paging.size
    }
}
