import Model
import RedisClient

/// Read-side lookups of *Users and settings*: profiles, search, friend rows, requests.
package struct UserDirectory: Sendable {
    /// `searchUser` answers at most this many users, and scans at most `scanBudget`
    /// ZSCAN pages, so a search can never turn into a full walk of a huge index.
    static let searchLimit = 50
    static let scanBudget = 200

    let store: AccountStore
    var redis: RedisClient { store.redis }

    func user(uuid: String) async throws -> UserRow? {
        guard let id = try await redis.send("GET", store.keys.userByUUID(uuid)).integer else { return nil }
        return try await store.user(id: Int(id))
    }

    /// The `user_info` row: `{id, gender, birthday, bio, location, website}`.
    func userInfo(of userID: Int) async throws -> JSONObject {
        let hash = try await redis.send("HGETALL", store.keys.userInfo(userID)).fieldValues
        var info = JSONObject()
        info["id"] = hash["id"].flatMap { Int64($0) }.map(JSONValue.integer) ?? .null
        for column in ["gender", "birthday", "bio", "location", "website"] {
            info[column] = hash[column].map(JSONValue.string) ?? .null
        }
        return info
    }

    /// Active, registered users (not visitors) whose username contains `keyword`. On a
    /// tagged layout every partition's index is scanned, each with its share of the
    /// budgets, so that a search finds the users of every partition.
    func search(_ keyword: String, excluding userID: Int) async throws -> [UserRow] {
        let pattern = "*" + Self.escapeGlob(keyword) + "*"
        let keys = store.keys
        let partitions = keys.layout.partitions
        let pages = (Self.scanBudget + partitions - 1) / partitions
        let wanted = (Self.searchLimit * 4 + partitions - 1) / partitions
        var names: [String] = []
        for partition in 0..<partitions {
            names += try await scan(keys.userNames(partition: partition), matching: pattern, pages: pages, wanted: wanted)
        }
        guard !names.isEmpty else { return [] }
        let claims = try await redis.pipeline(names.map { RedisCommand("GET", keys.userByName($0)) })
        let ids = claims.compactMap(\.integer).map { Int($0) }
        guard !ids.isEmpty else { return [] }
        let rows = try await redis.pipeline(ids.map { RedisCommand("HGETALL", keys.user($0)) })
        return rows.compactMap { UserRow(hash: $0.fieldValues) }
            .filter { $0.status == 1 && $0.role == .user && $0.id != userID }
            .sorted { $0.id < $1.id }
            .prefix(Self.searchLimit)
            .map { $0 }
    }

    /// One index's members matching `pattern`, at most `pages` ZSCAN pages, stopping once
    /// `wanted` are found.
    private func scan(_ index: String, matching pattern: String, pages: Int, wanted: Int) async throws -> [String] {
        var found: [String] = []
        var cursor = "0"
        for _ in 0..<pages {
            let reply = try await redis.send("ZSCAN", index, cursor, "MATCH", pattern, "COUNT", 1000)
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let items = parts[1].array else {
                try reply.throwingOnError()
                break
            }
            // ZSCAN answers member, score, member, score…
            found += stride(from: 0, to: items.count, by: 2).compactMap { items[$0].string }
            cursor = next
            if cursor == "0" || found.count >= wanted { break }
        }
        return found
    }

    /// The `goodfriend` row `owner` keeps for `friend` (docs/architecture.md: `chat:friends:{owner}`).
    func friendRow(owner: Int, friend: Int) async throws -> JSONObject? {
        guard let text = try await redis.send("HGET", store.keys.friends(owner), String(friend)).string,
              case .object(let row) = try? JSONParser.parse(text) else { return nil }
        return row
    }

    /// The pending `goodfriendapply` row from `from` to `to`, if there is one.
    func pendingRequest(from: Int, to: Int) async throws -> JSONObject? {
        // In the recipient's partition (docs/architecture.md, *Redis Cluster*).
        guard let id = try await redis.send("GET", store.keys.friendRequestPair(from: from, to: to)).integer else { return nil }
        let hash = try await redis.send("HGETALL", store.keys.friendRequest(Int(id), to: to)).fieldValues
        guard let row = FriendRequestRow(hash: hash), row.status == "pending" else { return nil }
        return row.json
    }

    /// `*`, `?`, `[`, `]` and `\` match literally.
    static func escapeGlob(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "*?[]\\".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
