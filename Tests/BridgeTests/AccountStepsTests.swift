import ChatScripts
import Foundation
import LuaScripts
import Model
import RedisClient
import Testing
import TestSupport

@testable import ChatAPI

/// Registrations, renames and the username search on a partitioned layout (4 partitions,
/// on the test Redis whatever the run's layout: the names carry their tags), through the
/// account store: the steps, what a crash between them leaves, and its repair.
@Suite("Accounts on a partitioned layout: steps and repairs", .offCooperativePool)
struct AccountStepsTests {
    static let tagged = RedisKeys(layout: KeyLayout(partitionTags: PartitionTags.evenlySpaced(count: 4)))

    struct Fixture {
        let redis: RedisClient
        let scripts: RedisScripts
        let store: AccountStore

        init() throws {
            redis = try TestBridge.sharedRedis()
            scripts = RedisScripts(client: redis, scripts: LuaScripts.all.map { RedisScript(name: $0.name, source: $0.source) })
            store = AccountStore(scripts: scripts, keys: AccountStepsTests.tagged)
        }

        func register(_ username: String) async throws -> UserRow {
            try await store.register(username: username, passwordHash: "hash", avatar: "a.png", role: .user, now: Date())
        }

        /// The claim's holder and remaining pending time (-1: confirmed, -2: none).
        func claim(_ username: String) async throws -> Claim {
            let key = AccountStepsTests.tagged.userByName(username)
            let replies = try await redis.pipeline([RedisCommand("GET", key), RedisCommand("PTTL", key)])
            return Claim(holder: replies[0].integer.map { Int($0) }, pending: replies[1].integer ?? 0)
        }
    }

    struct Claim: Equatable {
        var holder: Int?
        var pending: Int64

        /// Held by `id`, confirmed.
        static func confirmed(_ id: Int) -> Claim { Claim(holder: id, pending: -1) }
    }

    @Test("the steps: claims confirmed, rows, the partition's indexes and ids, the events on the partition's shards")
    func registrationSteps() async throws {
        let fixture = try Fixture()
        defer { Task { await fixture.redis.shutdown() } }
        let keys = Self.tagged
        let name = AccountTests.name("st")
        let user = try await fixture.register(name)
        let claim = try await fixture.claim(name)
        #expect(claim.holder == user.id && claim.pending == -1)
        #expect(try await fixture.redis.send("PTTL", keys.userByUUID(user.uuid)).integer == -1)
        #expect(try await fixture.redis.send("HGET", keys.user(user.id), "username").string == name)
        #expect(try await fixture.redis.send("ZSCORE", keys.userNames(ofUser: user.id), name).integer == 0)
        #expect(try await fixture.redis.send("HGET", keys.userIDsByName(ofUser: user.id), name).integer == Int64(user.id))
        #expect(try await fixture.redis.send("ZSCORE", keys.users(ofUser: user.id), String(user.id)).integer == Int64(user.id))
        // (other suites write to the same shard meanwhile: the newest 5,000, not 50)
        let events = try await fixture.redis.send("XREVRANGE", keys.entities(ofUser: user.id), "+", "-", "COUNT", 5000).array ?? []
        #expect(events.contains { ($0.array?.last?.fieldValues["row"] ?? "").contains("\"username\":\"\(name)\"") })
        // One Redis names none of these.
        #expect(try await fixture.redis.send("EXISTS", RedisKeys.user(user.id)).integer == 0)
        #expect(try await fixture.store.user(named: name)?.id == user.id)
    }

    @Test("a crash after the claim: the pending claim holds the name until its deadline, then the name registers")
    func crashAfterClaim() async throws {
        let fixture = try Fixture()
        defer { Task { await fixture.redis.shutdown() } }
        let name = AccountTests.name("cc")
        let orphan = 2_000_000_000 + Int.random(in: 0..<1_000_000)
        let claimed = try await fixture.scripts.run(ClaimUniqueName(
            keys: Self.tagged, name: .username(name), userID: orphan, .claim(pendingMilliseconds: 60_000, replacing: nil)
        ))
        #expect(claimed == .done)
        let pending = try await fixture.claim(name)
        #expect(pending.holder == orphan && pending.pending > 0 && pending.pending <= 60_000)
        await #expect(throws: AccountStore.Refusal.usernameTaken) { _ = try await fixture.register(name) }
        #expect(try await fixture.claim(name).holder == orphan)
        // The deadline passes (made short here): the claim is gone, the name free.
        _ = try await fixture.redis.send("PEXPIRE", Self.tagged.userByName(name), 1)
        try await Task.sleep(for: .milliseconds(20))
        let user = try await fixture.register(name)
        #expect(try await fixture.claim(name) == .confirmed(user.id))
    }

    @Test("a crash after the row: the lost claim is repaired by a login's lookup, and a new registration of the name is refused")
    func crashAfterRow() async throws {
        let fixture = try Fixture()
        defer { Task { await fixture.redis.shutdown() } }
        let name = AccountTests.name("cr")
        let user = try await fixture.register(name)
        // The claim expired before the confirm: as if the process died after the row.
        _ = try await fixture.redis.send("DEL", Self.tagged.userByName(name))
        let found = try #require(try await fixture.store.user(named: name))
        #expect(found.id == user.id)
        #expect(try await fixture.claim(name) == .confirmed(user.id))

        _ = try await fixture.redis.send("DEL", Self.tagged.userByName(name))
        await #expect(throws: AccountStore.Refusal.usernameTaken) { _ = try await fixture.register(name) }
        #expect(try await fixture.claim(name) == .confirmed(user.id))
        #expect(try await fixture.store.user(named: "nobody" + name) == nil)
    }

    @Test("a rename: the new name claimed and indexed, the old one released; a crash that left the old claim: replaced")
    func rename() async throws {
        let fixture = try Fixture()
        defer { Task { await fixture.redis.shutdown() } }
        let keys = Self.tagged
        let old = AccountTests.name("ro")
        let new = AccountTests.name("rn")
        let user = try await fixture.register(old)
        let renamed = try await fixture.store.update(user, requireActive: true, newUsername: new, columns: [])
        #expect(renamed.username == new)
        #expect(try await fixture.claim(new) == .confirmed(user.id))
        #expect(try await fixture.claim(old).holder == nil)
        #expect(try await fixture.redis.send("ZSCORE", keys.userNames(ofUser: user.id), old).isNull)
        #expect(try await fixture.redis.send("ZSCORE", keys.userNames(ofUser: user.id), new).integer == 0)
        #expect(try await fixture.redis.send("HGET", keys.userIDsByName(ofUser: user.id), new).integer == Int64(user.id))
        #expect(try await fixture.redis.send("HEXISTS", keys.userIDsByName(ofUser: user.id), old).integer == 0)

        // A crash before the old claim's release: it still names the account, whose row
        // holds another name. The next registration of the old name replaces it.
        _ = try await fixture.redis.send("SET", keys.userByName(old), String(user.id))
        let other = try await fixture.register(old)
        #expect(other.id != user.id)
        #expect(try await fixture.claim(old) == .confirmed(other.id))
        // And a taken new name leaves everything as it was.
        await #expect(throws: AccountStore.Refusal.usernameTaken) {
            _ = try await fixture.store.update(renamed, requireActive: true, newUsername: old, columns: [])
        }
        #expect(try await fixture.claim(old) == .confirmed(other.id))
        #expect(try await fixture.redis.send("HGET", keys.user(user.id), "username").string == new)
    }

    @Test("searchUser reads every partition's index: users of all four partitions found, at most the limit")
    func searchAcrossPartitions() async throws {
        let fixture = try Fixture()
        defer { Task { await fixture.redis.shutdown() } }
        let keyword = "sx" + String(UUID().uuidString.prefix(6)).lowercased()
        var users: [UserRow] = []
        var partitions: Set<Int> = []
        while partitions.count < 4 {
            let user = try await fixture.register(keyword + AccountTests.name("q").prefix(6))
            users.append(user)
            partitions.insert(Self.tagged.layout.partition(ofUser: user.id))
        }
        let directory = UserDirectory(store: fixture.store)
        let found = try await directory.search(keyword, excluding: users[0].id)
        #expect(found.map(\.id) == users.dropFirst().map(\.id).sorted())
        #expect(Set(found.map { Self.tagged.layout.partition(ofUser: $0.id) }).count >= 3)
    }
}
