import Foundation
import Model
import RedisClient
import Testing
import TestSupport

/// docs/architecture.md, *Streams*: a `user` row's event on the public entity stream holds
/// the public columns only; the whole row, password hash included, goes to
/// `chat:stream:private`, written by the same script with the same version.
@Suite("secrets off the public streams", .offCooperativePool)
struct SecretStreamTests {
    /// `USER_PUBLIC` of lua/lib/rows.lua, in its order.
    static let publicColumns = [
        "id", "uuid", "username", "nickname", "avatar", "uniplatform", "devicemodel", "deviceos", "devicebrand",
        "userset", "invite_confirm", "status", "last_login", "register_time", "is_deleted", "role", "order",
        "create_time", "update_time",
    ]

    /// The newest id of each shard of `stream`: other suites write at the same time.
    static func mark(_ redis: RedisClient, _ stream: String) async throws -> ShardedStream.Mark {
        try await ShardedStream(stream).mark(redis)
    }

    /// The `user` events of `id` on `stream` (every shard) after `mark`, fields by name.
    static func userEvents(_ redis: RedisClient, _ stream: String, after mark: ShardedStream.Mark, id: Int) async throws -> [[String: String]] {
        try await ShardedStream(stream).entries(redis, after: mark).compactMap { entry in
            let fields = entry.fields
            return fields["entity"] == "user" && fields["id"] == String(id) ? fields : nil
        }
    }

    @Test("registered, then a password change: public user events carry the public columns only, the private stream the whole row with each hash")
    func userEventsSplit() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let publicMark = try await Self.mark(redis, StreamName.entities)
            let privateMark = try await Self.mark(redis, StreamName.privateEntities)
            let username = AccountTests.name()
            let registered = try await AccountTests.call(client, "/api/regChat", ["username": .string(username), "password": "secret1"])
            let id = Int(try #require(registered.body.objectValue?["data"]?.objectValue?["id"]?.integerValue))
            let token = try #require(AccountTests.token(of: registered))
            let firstHash = try #require(try await redis.send("HGET", testKeys.user(id), "password").string)
            // Personal data an operator or an import put in the row: private as well.
            _ = try await redis.send(
                "HSET", testKeys.user(id), "email", "\(username)@example.cn", "mobile", "13800000000", "last_login_ip", "203.0.113.7",
                "register_ip", "203.0.113.8", "devicefingeruuid", "device-\(username)"
            ).throwingOnError()

            let changed = try await AccountTests.call(
                client, "/api/chat/setPassword", ["oldpassword": "secret1", "newpassword": "secret2", "checknewpassword": "secret2"],
                token: token
            )
            #expect(changed.body == ["msg": "ok", "data": "修改密码成功"])
            let secondHash = try #require(try await redis.send("HGET", testKeys.user(id), "password").string)
            #expect(secondHash != firstHash && secondHash.hasPrefix("$2b$"))
            let version = try #require(try await redis.send("HGET", testKeys.user(id), "_v").string)

            let publicEvents = try await Self.userEvents(redis, StreamName.entities, after: publicMark, id: id)
            let privateEvents = try await Self.userEvents(redis, StreamName.privateEntities, after: privateMark, id: id)
            // Every change twice, the same versions in the same order, up to the stored one.
            #expect(publicEvents.count >= 3, "registration, its login, the password change: \(publicEvents.count)")
            #expect(publicEvents.map { $0["version"] } == privateEvents.map { $0["version"] })
            #expect(publicEvents.first?["version"] == "1" && publicEvents.last?["version"] == version)

            for event in publicEvents {
                #expect(event["v"] == "2" && event["op"] == "upsert")
                let text = try #require(event["row"])
                let row = try #require(try JSONParser.parse(text).objectValue)
                #expect(row.keys == Self.publicColumns, "\(text)")
                #expect(row["username"] == .string(username) && row["id"] == .integer(Int64(id)))
                for secret in [firstHash, secondHash, "secret1", "secret2", "example.cn", "13800000000", "203.0.113", "device-"] {
                    #expect(!text.contains(secret), "the public row holds \(secret): \(text)")
                }
            }
            for event in privateEvents {
                #expect(event["v"] == "1" && event["op"] == "upsert")
            }
            var rows: [JSONObject] = []
            for event in privateEvents {
                rows.append(try #require(try JSONParser.parse(event["row"] ?? "").objectValue, "\(event)"))
            }
            #expect(rows.first?["password"] == .string(firstHash))
            let last = try #require(rows.last)
            #expect(last["password"] == .string(secondHash))
            #expect(last["email"] == .string("\(username)@example.cn") && last["mobile"] == "13800000000")
            #expect(last["last_login_ip"] == "203.0.113.7" && last["register_ip"] == "203.0.113.8")
            #expect(last["devicefingeruuid"] == .string("device-\(username)"))
        }
    }
}
