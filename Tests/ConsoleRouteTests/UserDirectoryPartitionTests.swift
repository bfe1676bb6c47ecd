import Foundation
import Model
import RedisClient
import Testing
import TestSupport

@testable import Console

/// The console's user list and search on a partitioned layout (4 partitions, on the test
/// Redis whatever the run's layout): every partition's index read and merged, with the
/// pages one index would give.
@Suite("Console users on a partitioned layout", .serialized, .offCooperativePool)
struct UserDirectoryPartitionTests {
    static let keys = RedisKeys(layout: KeyLayout(partitionTags: PartitionTags.evenlySpaced(count: 4)))

    /// Users with ids above any other test's (the list is newest first), in every
    /// partition, written as the registration's partition step writes them.
    static func users(_ redis: RedisClient, prefix: String, count: Int) async throws -> [(id: Int, name: String, nickname: String)] {
        let base = Int(Date().timeIntervalSince1970 * 1000) * 100
        var made: [(id: Int, name: String, nickname: String)] = []
        for index in 0..<count {
            let id = base + index
            // Half match by name, in an order unlike the ids', half by nickname.
            let order = String(format: "%02d", (index * 7) % count)
            let name = index.isMultiple(of: 2) ? prefix + order : "z" + prefix + order
            let nickname = index.isMultiple(of: 2) ? "q" + order : prefix + "n" + order
            try await redis.pipeline([
                RedisCommand.texts("HSET", [keys.user(id), "id", String(id), "username", name, "nickname", nickname, "status", "1"]),
                RedisCommand("ZADD", keys.userNames(ofUser: id), "0", name),
                RedisCommand("HSET", keys.userIDsByName(ofUser: id), name, String(id)),
                RedisCommand("ZADD", keys.users(ofUser: id), String(id), String(id)),
                RedisCommand("ZADD", keys.userNicknames(ofUser: id), "0", RedisKeys.nicknameEntry(nickname, id)),
                RedisCommand("SET", keys.userByName(name), String(id)),
            ]).forEach { try $0.throwingOnError() }
            made.append((id, name, nickname))
        }
        return made
    }

    @Test("a prefix search pages through the usernames, then the nicknames, of all partitions in byte order")
    func searchPages() async throws {
        let redis = try RedisClient(configuration: RedisConfiguration.forTests(url: TestEnvironment.redisURL()))
        defer { Task { await redis.shutdown() } }
        let prefix = "pp" + String(UUID().uuidString.prefix(6)).lowercased()
        let made = try await Self.users(redis, prefix: prefix, count: 12)
        #expect(Set(made.map { Self.keys.layout.partition(ofUser: $0.id) }).count == 4)
        let directory = UserDirectory(redis: redis, keys: Self.keys)
        // The usernames' matches by name, then the nicknames'.
        let byName = made.filter { $0.name.hasPrefix(prefix) }.sorted { $0.name < $1.name }.map(\.id)
        let byNickname = made.filter { $0.nickname.hasPrefix(prefix) }.sorted { $0.nickname < $1.nickname }.map(\.id)
        let expected = byName + byNickname
        #expect(expected.count == 12)
        var seen: [Int] = []
        for page in 1...6 {
            let result = try await directory.list(query: prefix, paging: Paging(page: page, size: 5))
            seen += result.rows.map(\.id)
            #expect(result.hasNext == (page * 5 < expected.count), "page \(page)")
        }
        #expect(seen == expected)
    }

    @Test("the list without a query: every partition's ids, newest first, page by page")
    func listPages() async throws {
        let redis = try RedisClient(configuration: RedisConfiguration.forTests(url: TestEnvironment.redisURL()))
        defer { Task { await redis.shutdown() } }
        let made = try await Self.users(redis, prefix: "pl" + String(UUID().uuidString.prefix(6)).lowercased(), count: 9)
        let directory = UserDirectory(redis: redis, keys: Self.keys)
        let first = try await directory.list(query: nil, paging: Paging(page: 1, size: 4))
        let second = try await directory.list(query: nil, paging: Paging(page: 2, size: 4))
        // Newest first over every partition's index (no other test writes ids this high).
        var all: [Int] = []
        for partition in 0..<4 {
            all += (try await redis.send("ZRANGE", Self.keys.users(partition: partition), "0", "-1").array ?? []).compactMap { $0.integer.map(Int.init) }
        }
        let newest = all.sorted(by: >)
        #expect(Set(newest.prefix(9)) == Set(made.map(\.id)))
        #expect(first.rows.map(\.id) == Array(newest.prefix(4)) && first.hasNext)
        #expect(second.rows.map(\.id) == Array(newest.dropFirst(4).prefix(4)) && second.hasNext)
    }
}
