import Foundation
import Model
import RedisClient
import Testing
import TestSupport

@testable import Console

/// The console's group list on a partitioned layout (4 partitions, on the test Redis
/// whatever the run's layout): each partition's `chat:groups{p}` read and merged newest
/// first, with the pages one list would give; a group's rows by the layout's names.
@Suite("Console groups on a partitioned layout", .serialized, .offCooperativePool)
struct GroupDirectoryPartitionTests {
    static let keys = RedisKeys(layout: KeyLayout(partitionTags: PartitionTags.evenlySpaced(count: 4)))

    @Test("the list pages through the groups of every partition, newest first; a group with its members")
    func listPages() async throws {
        let redis = try RedisClient(configuration: RedisConfiguration.forTests(url: TestEnvironment.redisURL()))
        defer { Task { await redis.shutdown() } }
        // Ids above any other test's (the list is newest first).
        let base = Int(Date().timeIntervalSince1970 * 1000) * 100
        let ids = (0..<11).map { base + $0 }
        for id in ids {
            try await redis.pipeline([
                RedisCommand.texts("HSET", [Self.keys.group(id), "id", String(id), "name", "g\(id)", "user_id", "1", "status", "1"]),
                RedisCommand("HSET", Self.keys.groupMembers(id), "1", #"{"id":1,"group_id":\#(id),"user_id":1,"status":1}"#),
                RedisCommand("ZADD", Self.keys.groups(ofGroup: id), String(id), String(id)),
            ]).forEach { try $0.throwingOnError() }
        }
        #expect(Set(ids.map(Self.keys.layout.partition(ofGroup:))).count == 4)
        let directory = GroupDirectory(redis: redis, keys: Self.keys)
        var seen: [Int] = []
        // Other tests' groups (lower ids) may follow on the last page.
        for page in 1...3 {
            let result = try await directory.list(query: nil, paging: Paging(page: page, size: 4))
            #expect(result.rows.filter { $0.id >= base }.allSatisfy { $0.members == 1 })
            seen += result.rows.map(\.id)
            if page < 3 { #expect(result.hasNext, "page \(page)") }
        }
        #expect(Array(seen.prefix(11)) == ids.reversed())
        #expect(seen.dropFirst(11).allSatisfy { $0 < base })
        let (group, members) = try #require(try await directory.group(ids[5]))
        #expect(group.id == ids[5] && members.map(\.userID) == [1])
    }

    @Test("an operator disables and enables a group: the group's step, the audit row, each member's active groups")
    func statusInSteps() async throws {
        let redis = try RedisClient(configuration: RedisConfiguration.forTests(url: TestEnvironment.redisURL()))
        defer { Task { await redis.shutdown() } }
        let base = Int.random(in: 10_000_000...99_999_999) * 4
        let group = base + 2
        let members = [base + 4, base + 1, base + 2, base + 3]
        // A whole row (its entity events are checked against the stream schemas).
        var commands = [RedisCommand.texts("HSET", [
            Self.keys.group(group), "id", String(group), "uuid", UUID().uuidString.lowercased(), "user_id", String(members[0]), "name", "g",
            "avatar", "", "invite_confirm", "0", "status", "1", "order", "50", "create_time", "2026-12-07 11:00:00",
            "update_time", "2026-12-07 11:00:00", "_v", "1",
        ])]
        for (index, member) in members.enumerated() {
            commands.append(RedisCommand(
                "HSET", Self.keys.groupMembers(group), String(member), #"{"id":\#(index + 1),"group_id":\#(group),"user_id":\#(member),"status":1}"#
            ))
            commands.append(RedisCommand("ZADD", Self.keys.groupsOfUser(member), String(group), String(group)))
            commands.append(RedisCommand("ZADD", Self.keys.activeGroupsOfUser(member), String(group), String(group)))
        }
        try await redis.pipeline(commands).forEach { try $0.throwingOnError() }
        let actions = ConsoleDependencies(settings: ConsoleSettings(), keys: Self.keys, redis: redis).actions
        // The console's audit of an operator (its type is the scripts' module's).
        func change(_ id: Int, enabled: Bool) async throws {
            try await actions.changeGroup(id, enabled: enabled, by: .init(admin: "root", address: "127.0.0.1", now: "2026-12-07 12:00:00"))
        }
        func active() async throws -> [Bool] {
            var flags: [Bool] = []
            for member in members {
                flags.append(try await redis.send("ZSCORE", Self.keys.activeGroupsOfUser(member), String(group)).string != nil)
            }
            return flags
        }
        // This group's newest audit row (other suites audit on the same list meanwhile).
        func lastAudit() async throws -> JSONObject? {
            let rows = try await redis.send("LRANGE", Self.keys.adminAudit, "0", "999").array ?? []
            return rows.lazy.compactMap { $0.string.flatMap { try? JSONParser.parse(Array($0.utf8)).objectValue } }
                .first { $0["target_type"] == "group" && $0["target_id"] == .integer(Int64(group)) }
        }
        try await change(group, enabled: false)
        #expect(try await redis.send("HGET", Self.keys.group(group), "status").string == "0")
        #expect(try await redis.send("HGET", Self.keys.group(group), "_v").string == "2")
        #expect(try await active() == [false, false, false, false])
        let disabled = try #require(try await lastAudit())
        #expect(disabled["action"] == "group.disable" && disabled["target_id"] == .integer(Int64(group)) && disabled["admin"] == "root")
        try await change(group, enabled: true)
        #expect(try await active() == [true, true, true, true])
        #expect(try await lastAudit()?["action"] == "group.enable")
        for member in members {
            #expect(try await redis.send("ZSCORE", Self.keys.groupsOfUser(member), String(group)).string == String(group))
        }
        let partition = Self.keys.layout.partition(ofGroup: group)
        let records = try await redis.send("HVALS", Self.keys.groupPendingRecords(partition: partition)).array ?? []
        #expect(!records.contains { $0.string?.hasPrefix("{\"group\":\(group),") == true }, "finished: no pending record")
        await #expect(throws: FlashMessage.Failure.missing) { try await change(group + 4_000_000_000, enabled: true) }
    }
}
