import ChatScripts
import Foundation
import HummingbirdTesting
import LuaScripts
import Model
import RedisClient
import TestSupport
import Testing

@testable import ChatAPI

/// docs/operations.md *Sizing Redis*: the bridge and the persister refuse a Redis that may
/// evict keys (unless told otherwise, loudly), and no script overwrites an existing entity.
@Suite("Redis safety", .offCooperativePool)
struct RedisSafetyTests {
    static let refusal = "Redis' maxmemory-policy is 'allkeys-lru', not 'noeviction'"

    @Test("a Redis with allkeys-lru: the bridge and persister run exit 78 naming the policy", .timeLimit(.minutes(1)))
    func evictingRedisRefused() throws {
        // The check comes before MariaDB is used: a MariaDB URL is needed only to parse.
        let redis = try RedisServerProcess(extraArguments: ["--maxmemory-policy", "allkeys-lru"])
        let environment = [
            "REDIS_URL": redis.url, "BRIDGE_PORT": "\(try FreePort.next())", "JWT_SECRET": BridgeProcess.secret,
            "PERSISTER_METRICS_PORT": "0", "MARIADB_URL": try TestEnvironment.mariaDBURL(),
        ]
        let bridge = try Executables.run("bridge", arguments: [], environment: environment)
        #expect(bridge.status == 78)
        #expect(bridge.output.contains("bridge: \(Self.refusal)"), "\(bridge.output)")
        #expect(bridge.output.contains("--redis-allow-eviction"))
        let persister = try Executables.run("persister", arguments: ["run"], environment: environment)
        #expect(persister.status == 78)
        #expect(persister.output.contains("persister run: \(Self.refusal)"), "\(persister.output)")
    }

    @Test("--redis-allow-eviction true: both start, with a critical warning", .timeLimit(.minutes(1)))
    func overrideStarts() async throws {
        let redis = try RedisServerProcess(extraArguments: ["--maxmemory-policy", "allkeys-lru"])
        let bridge = try await BridgeProcess(redisURL: redis.url, settings: ["REDIS_ALLOW_EVICTION": "true"])
        let log = try String(contentsOfFile: bridge.logPath, encoding: .utf8)
        #expect(log.contains(Self.refusal) && log.contains("STARTING ANYWAY"), "\(log)")

        let output = FileManager.default.temporaryDirectory.appendingPathComponent("persister-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: output) }
        var environment = ProcessInfo.processInfo.environment
        environment["REDIS_URL"] = redis.url
        environment["MARIADB_URL"] = try TestEnvironment.mariaDBURL()
        environment["PERSISTER_METRICS_PORT"] = "0"
        environment["LOG_LEVEL"] = "warning"
        let persister = try ChildProcess(
            executable: try Executables.path(of: "persister"), arguments: ["run", "--redis-allow-eviction", "true"],
            environment: environment, output: output.path
        )
        try await eventually(within: 10) {
            ((try? String(contentsOf: output, encoding: .utf8)) ?? "").contains("STARTING ANYWAY")
        }
        #expect(persister.waitForExit(timeout: 1) == nil, "the persister exited")
        persister.signal(SIGTERM)
        #expect(persister.waitForExit(timeout: 10).map(Executables.exitCode) == 0)
    }

    @Test("the default noeviction Redis starts the bridge without a word about it", .timeLimit(.minutes(1)))
    func noEvictionQuiet() async throws {
        let redis = try RedisServerProcess()
        let bridge = try await BridgeProcess(redisURL: redis.url)
        let log = try String(contentsOfFile: bridge.logPath, encoding: .utf8)
        #expect(!log.contains("maxmemory-policy"), "\(log)")
    }

    @Test("user_register at an id whose rows exist: refused (id_taken), nothing changed, no index claimed")
    func registerNeverOverwrites() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let scripts = RedisScripts(client: redis, scripts: LuaScripts.all.map { RedisScript(name: $0.name, source: $0.source) })
        let id = Int(try #require(try await redis.send("INCR", RedisKeys.idCounter("user")).integer))
        _ = try await redis.send("HSET", testKeys.user(id), "username", "existing", "status", "1", "_v", "3")
        let username = "new" + UUID().uuidString.prefix(8).lowercased()
        let uuid = UUID().uuidString.lowercased()
        let mark = try await FriendTests.streamMark(redis)
        let userRow = #"{"id":\#(id),"username":"\#(username)","status":1}"#, infoRow = #"{"id":\#(id),"user_id":\#(id)}"#
        if testKeys.layout.isTagged {
            // Partitioned: the names are claimed on slots of their own before; the rows'
            // script in the user's partition refuses.
            let reply = try await scripts.run(RegisterUserRows(
                keys: testKeys, userID: id, infoID: id, userRow: userRow, infoRow: infoRow, streamCap: 1000
            ))
            #expect(reply == .idTaken)
            #expect(try await redis.send("HEXISTS", testKeys.userIDsByName(ofUser: id), username).integer == 0)
        } else {
            let reply = try await scripts.run(RegisterUser(
                keys: testKeys, userID: id, infoID: id, username: username, uuid: uuid, deviceID: nil,
                userRow: userRow, infoRow: infoRow, streamCap: 1000
            ))
            #expect(reply == .refused(.idTaken))
            #expect(try await redis.send("EXISTS", testKeys.userByName(username), testKeys.userByUUID(uuid)).integer == 0)
        }
        #expect(try await redis.send("HGETALL", testKeys.user(id)).fieldValues == ["username": "existing", "status": "1", "_v": "3"])
        #expect(try await redis.send("EXISTS", testKeys.userInfo(id)).integer == 0)
        #expect(try await redis.send("ZSCORE", testKeys.userNames(ofUser: id), username).isNull)
        let events = try await FriendTests.entityEntries(redis, after: mark)
        #expect(!events.contains { entry in (entry.array?.last?.array ?? []).contains { $0.string?.contains(username) == true } })
    }

    @Test("a new group or friend request at an id that exists: refused (id_taken), the existing row unchanged")
    func newRowsNeverOverwrite() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let scripts = RedisScripts(client: redis, scripts: LuaScripts.all.map { RedisScript(name: $0.name, source: $0.source) })
        try await TestBridge.app(redis: redis).test(.router) { client in
            let people = try await GroupTests.users(client, 2)
            let (me, you) = (people[0], people[1])

            let gid = Int(try #require(try await redis.send("INCR", RedisKeys.idCounter("group")).integer))
            _ = try await redis.send("HSET", testKeys.group(gid), "id", String(gid), "name", "existing", "_v", "1")
            // One run on one Redis; on a tagged layout the group's step, after the members'
            // facts (GroupChangeSteps).
            if testKeys.layout.isTagged {
                let steps = GroupChangeSteps(scripts: scripts, keys: testKeys, streamCap: 1000)
                let facts = try await steps.facts(of: [me.id, you.id], blocking: me.id)
                let group = try await steps.first(
                    .create(uuid: "u", name: "new", avatar: "a", firstRowID: 1, members: facts),
                    group: gid, by: me.id, change: UUID().uuidString, now: "2026-12-07 00:00:00"
                )
                #expect(group == .changed(members: [], .refused(.idTaken)))
            } else {
                let group = try await scripts.run(ChangeGroup(
                    group: gid, by: me.id, .create(uuid: "u", name: "new", avatar: "a", firstRowID: 1, members: [me.id, you.id]),
                    keys: testKeys, streamCap: 1000, now: "2026-12-07 00:00:00"
                ))
                #expect(group == .refused(.idTaken))
            }
            #expect(try await redis.send("HGETALL", testKeys.group(gid)).fieldValues == ["id": String(gid), "name": "existing", "_v": "1"])
            #expect(try await redis.send("EXISTS", testKeys.groupMembers(gid)).integer == 0)
            #expect(try await redis.send("ZCARD", testKeys.groupsOfUser(me.id)).integer == 0)

            let rid = Int(try #require(try await redis.send("INCR", RedisKeys.idCounter("goodfriendapply")).integer))
            _ = try await redis.send("HSET", testKeys.friendRequest(rid, to: you.id), "id", String(rid), "status", "agree", "_v", "1")
            let request = try await scripts.run(ChangeFriendRequest(
                .apply(.init(me: me.id, to: you.id, requestID: rid, nickname: "n", oldRequestID: "")),
                keys: testKeys, streamCap: 1000, now: "2026-12-07 00:00:00"
            ))
            #expect(request == .refused(.idTaken))
            #expect(try await redis.send("HGETALL", testKeys.friendRequest(rid, to: you.id)).fieldValues == ["id": String(rid), "status": "agree", "_v": "1"])
            #expect(try await redis.send("EXISTS", testKeys.friendRequestPair(from: me.id, to: you.id)).integer == 0)
        }
    }
}
