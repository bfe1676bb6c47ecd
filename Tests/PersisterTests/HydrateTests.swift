import Crypto
import Foundation
import MariaDB
import Model
@testable import Persister
import RedisClient
import Testing
import TestSupport

/// `persister hydrate`: the bridge's entity keys removed, rebuilt from what the persister
/// wrote, and the HTTP API answers as before.
@Suite("persister hydrate", .serialized, .offCooperativePool)
struct HydrateTests {
    static let entityPatterns = [
        "chat:user:*", "chat:userinfo:*", "chat:friends:*", "chat:apply:*", "chat:id:*", "chat:group:*", "chat:blocks:*",
    ]

    /// Every entity key with its value in a comparable form (JSON values parsed).
    static func snapshot(_ redis: RedisClient) async throws -> [String: String] {
        var result: [String: String] = [:]
        for pattern in entityPatterns {
            for key in (try await redis.send("KEYS", pattern).array ?? []).compactMap(\.string) {
                let type = try await redis.send("TYPE", key).string ?? ""
                switch type {
                case "hash":
                    let fields = try await redis.send("HGETALL", key).fieldValues
                    result[key] = fields.sorted { $0.key < $1.key }.map { "\($0.key)=\(normalized($0.value))" }.joined(separator: "|")
                case "zset":
                    result[key] = (try await redis.send("ZRANGE", key, "0", "-1", "WITHSCORES").array ?? []).compactMap(\.string).joined(separator: ",")
                case "string":
                    result[key] = try await redis.send("GET", key).string
                default:
                    result[key] = type
                }
            }
        }
        return result
    }

    /// JSON rows compared by content (cjson escapes `/`, our serializer does not).
    static func normalized(_ value: String) -> String {
        guard value.hasPrefix("{"), let object = try? JSONSerialization.jsonObject(with: Data(value.utf8)),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return value }
        return String(decoding: data, as: UTF8.self)
    }

    @Test func removedEntityKeysComeBackAndTheAPIAnswersAsBefore() async throws {
        try await DrainFixture.with(prefix: "hydrate") { fixture in
            let bridge = try await BridgeProcess(redisURL: fixture.redisServer.url)
            let persister = try fixture.persister()
            let alice = try bridge.register()
            let bob = try bridge.register()
            let carol = try bridge.register()
            #expect(try bridge.post("/api/chat/autoAddFriendAndAgree", ["friend_id": bob.id, "nickname": "小鲍/b"], token: alice.token).status == 200)
            #expect(try bridge.post("/api/chat/applyfriend", ["friend_id": alice.id, "nickname": "卡"], token: carol.token).status == 200)
            #expect(try bridge.post("/api/chat/setstargoodfriend/\(bob.id)", token: alice.token).status == 200)
            #expect(try bridge.post("/api/chat/updateUserinfo", ["fieldname": "nickname", "fieldValue": "爱丽丝"], token: alice.token).status == 200)
            // A block (docs/api.md, *Blocks*): hydrated, it outlives the friendship.
            let eve = try bridge.register()
            let blocked = "对方把你拉黑了，不能发送消息"
            func eveWrites() throws -> String {
                let body = try bridge.post("/api/chat/socket/sendmessage", ["sendto_id": bob.id, "chatType": "single", "type": "text", "data": "hi"], token: eve.token).body
                return "\((body["msg"] as? String) ?? "") \((body["data"] as? String) ?? "a message")"
            }
            #expect(try bridge.post("/api/chat/autoAddFriendAndAgree", ["friend_id": bob.id], token: eve.token).body["msg"] as? String == "ok")
            #expect(try bridge.post("/api/chat/setblackgoodfriend/\(eve.id)", token: bob.token).body["msg"] as? String == "ok")
            #expect(try eveWrites() == "fail \(blocked)")

            func answers() throws -> [String] {
                let gets = ["/api/chat/goodfriendlist/1", "/api/chat/listapplyfriend/1", "/api/chat/getgoodfriendinfo/\(bob.id)"]
                var bodies = try gets.map { path -> String in
                    let response = try #require(HTTPProbe.request(port: bridge.port, method: "GET", path: path, headers: [("token", alice.token)]))
                    return "\(response.status) \(response.body)"
                }
                for (path, body) in [("/api/chat/searchUser", ["keyword": String(bob.username.prefix(6))]), ("/api/chat/getUserSetInfo", ["userid": bob.id])] {
                    let response = try bridge.post(path, body, token: alice.token)
                    bodies.append("\(response.status) \(Self.normalized(String(decoding: try JSONSerialization.data(withJSONObject: response.body, options: [.sortedKeys]), as: UTF8.self)))")
                }
                return bodies
            }
            let before = try answers()
            #expect(before.allSatisfy { $0.hasPrefix("200 ") }, "\(before)")

            // Drained: every entity event is in MariaDB.
            for shard in testKeys.shards(of: StreamName.entities) {
                let entities = Int(try await fixture.redis.send("XLEN", shard).integer ?? 0)
                guard entities > 0 else { continue }
                try await eventually(within: 30) {
                    let info = try await fixture.persisterGroup(onShard: shard)
                    return info["entries-read"] == String(entities) && info["pending"] == "0"
                }
            }
            let keysBefore = try await Self.snapshot(fixture.redis)
            #expect(keysBefore[testKeys.user(alice.id)]?.contains("nickname=爱丽丝") == true)
            #expect(keysBefore[testKeys.blocks(bob.id)]?.hasPrefix("\(eve.id)=") == true)
            let blocks = try fixture.database.connect().query("SELECT user_id, blocked_id, version FROM user_block")
            #expect(blocks.map { $0.values } == [[String(bob.id), String(eve.id), "1"]])

            for pattern in Self.entityPatterns {
                for key in (try await fixture.redis.send("KEYS", pattern).array ?? []).compactMap(\.string) {
                    try await fixture.redis.send("DEL", key).throwingOnError()
                }
            }
            #expect(try await Self.snapshot(fixture.redis).isEmpty)
            // The bridge is alive: hydrate refuses unless forced (issue 20).
            let refused = try Executables.run("persister", arguments: ["hydrate"], environment: [
                "REDIS_URL": fixture.redisServer.url, "MARIADB_URL": fixture.database.url,
            ])
            #expect(refused.status == 3 && refused.output.contains("refused: 1 bridge process(es) alive: \(bridge.node)"), "\(refused.output)")
            #expect(try await Self.snapshot(fixture.redis).isEmpty)
            let hydrate = try Executables.run("persister", arguments: ["hydrate", "--force"], environment: [
                "REDIS_URL": fixture.redisServer.url, "MARIADB_URL": fixture.database.url,
            ])
            #expect(hydrate.status == 0, "\(hydrate.output)")
            #expect(hydrate.output.contains("user 4"))

            let keysAfter = try await Self.snapshot(fixture.redis)
            for key in Set(keysBefore.keys).union(keysAfter.keys).sorted() {
                #expect(keysAfter[key] == keysBefore[key], "\(key)")
            }
            #expect(try answers() == before)
            #expect(hydrate.output.contains("block 1"))
            #expect(try bridge.post("/api/chat/deletegoodfriend/\(bob.id)", token: eve.token).body["msg"] as? String == "ok")
            #expect(try eveWrites() == "fail \(blocked)")
            // The hydrated block held: none made anew (on a tagged layout the delete's steps
            // reserve a block id beforehand, so the counter moves; the row does not).
            let block = try await fixture.redis.send("HGET", testKeys.blocks(bob.id), String(eve.id)).string ?? ""
            #expect(block.hasPrefix(#"{"id":1,"#), "\(block)")
            if !testKeys.layout.isTagged {
                #expect(try await fixture.redis.send("GET", "chat:id:block").string == "1", "the hydrated block held: none made anew")
            }
            // Counters continue above the ids there are: a new user gets the next id.
            let dave = try bridge.register()
            #expect(dave.id == eve.id + 1)
            _ = persister
        }
    }

    @Test func importsAnOldDatabaseWithLegacyPasswordsAndGroups() async throws {
        try await DrainFixture.with(prefix: "import") { fixture in
            let connection = try fixture.database.connect()
            let legacy = SHA256.hash(data: Array("secret1".utf8)).map { String(format: "%02x", $0) }.joined()
            try connection.execute("""
                INSERT INTO user (id, uuid, username, password, nickname, avatar, status, role, create_time, update_time)
                VALUES (41, '00000000-0000-4000-8000-000000000041', 'oldtimer', '\(legacy)', '老用户', '', 1, 'user', '2021-01-02 03:04:05', '2021-01-02 03:04:05')
                """)
            try connection.execute("INSERT INTO user_info (id, user_id, bio) VALUES (9, 41, '')")
            try connection.execute("""
                INSERT INTO `group` (id, uuid, user_id, name, avatar, remark, invite_confirm, status, create_time, update_time)
                VALUES (7, '00000000-0000-4000-8000-000000000007', 41, '老群', 'g.png', NULL, 0, 1, '2021-01-02 03:04:05', '2021-01-02 03:04:05')
                """)
            try connection.execute("""
                INSERT INTO group_user (id, group_id, user_id, nickname, status, create_time, update_time) VALUES
                (70, 7, 41, '', 1, '2021-01-02 03:04:05', '2021-01-02 03:04:05'),
                (71, 7, 42, '等', 2, '2021-01-02 03:04:05', '2021-01-02 03:04:05')
                """)
            let hydrate = try Executables.run("persister", arguments: ["hydrate"], environment: [
                "REDIS_URL": fixture.redisServer.url, "MARIADB_URL": fixture.database.url,
            ])
            #expect(hydrate.status == 0, "\(hydrate.output)")
            let redis = fixture.redis
            #expect(try await redis.send("GET", "chat:user:name:oldtimer").string == "41")
            #expect(try await redis.send("GET", "chat:id:user").string == "41")
            #expect(try await redis.send("GET", "chat:id:group_user").string == "71")
            #expect(try await redis.send("HGET", testKeys.group(7), "name").string == "老群")
            #expect(try await redis.send("HGET", testKeys.group(7), "_v").string == "1")
            #expect(try await redis.send("HEXISTS", testKeys.group(7), "remark").integer == 0)
            #expect(try await redis.send("HGET", testKeys.groupMembers(7), "41").string
                == #"{"id":70,"group_id":7,"user_id":41,"nickname":"","avatar":"","status":1,"order":50,"create_time":"2021-01-02 03:04:05","update_time":"2021-01-02 03:04:05","_v":1}"#)
            #expect(try await redis.send("ZRANGE", testKeys.groupsOfUser(41), "0", "-1").array?.compactMap(\.string) == ["7"])
            #expect(try await redis.send("EXISTS", testKeys.groupsOfUser(42)).integer == 0, "an applicant is not a member")
            #expect(try await redis.send("ZRANGE", testKeys.groups(ofGroup: 7), "0", "-1").array?.compactMap(\.string) == ["7"])
            // A tagged layout's active groups of each member (the guidance reads them); one Redis has none.
            let active = try await redis.send("ZRANGE", testKeys.activeGroupsOfUser(41), "0", "-1").array?.compactMap(\.string)
            #expect(active == (testKeys.layout.isTagged ? ["7"] : []))
            #expect(try await redis.send("EXISTS", testKeys.activeGroupsOfUser(42)).integer == 0)
            #expect(try await redis.send("HGET", testKeys.userInfo(41), "id").string == "9")

            // The legacy SHA-256 password logs in through the bridge.
            let bridge = try await BridgeProcess(redisURL: fixture.redisServer.url)
            let login = try bridge.post("/api/loginChat", ["username": "oldtimer", "password": "secret1"])
            #expect(login.status == 200, "\(login)")
            #expect((login.body["data"] as? [String: Any])?["id"] as? Int == 41)
        }
    }
}
