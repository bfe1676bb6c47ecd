import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Model
import NIOCore
import RedisClient
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// docs/api.md *Friends* over the real test Redis: every answer and error text, what the
/// scripts leave in Redis and in `chat:stream:entities`, races, visitor access, and the
/// notices (docs/api.md) with real bridge processes.
@Suite("Friends", .offCooperativePool)
struct FriendTests {
    typealias Account = UserTests.Account

    // MARK: Helpers

    static func ok(_ data: JSONValue) -> JSONValue { ["msg": "ok", "data": data] }
    static func fail(_ text: String) -> JSONValue { AccountTests.fail(text) }

    static func post(_ client: some TestClientProtocol, _ path: String, _ body: JSONValue = [:], _ account: Account) async throws -> JSONValue {
        try await AccountTests.call(client, path, body, token: account.token).body
    }

    static func get(_ client: some TestClientProtocol, _ path: String, _ account: Account) async throws -> JSONValue {
        try await get(client, path, token: account.token)
    }

    static func get(_ client: some TestClientProtocol, _ path: String, token: String) async throws -> JSONValue {
        try await client.execute(uri: path, method: .get, headers: [RequestParameters.tokenHeader: token]) {
            try JSONParser.parse(String(buffer: $0.body))
        }
    }

    static func id(_ account: Account) -> JSONValue { .integer(Int64(account.id)) }

    /// `me` asks `them`; returns the request's id.
    static func apply(
        _ client: some TestClientProtocol, _ redis: RedisClient, _ me: Account, to them: Account, nickname: String? = nil
    ) async throws -> Int {
        var body: JSONObject = ["friend_id": id(them)]
        if let nickname { body["nickname"] = .string(nickname) }
        #expect(try await post(client, "/api/chat/applyfriend", .object(body), me) == ok("ok"))
        return try await requestID(redis, from: me, to: them)
    }

    static func requestID(_ redis: RedisClient, from: Account, to: Account) async throws -> Int {
        Int(try #require(try await redis.send("GET", testKeys.friendRequestPair(from: from.id, to: to.id)).integer))
    }

    /// Makes `a` and `b` friends: `a` asks, `b` agrees with `remark` for `a`.
    static func befriend(
        _ client: some TestClientProtocol, _ redis: RedisClient, _ a: Account, _ b: Account, remark: String? = nil
    ) async throws {
        let request = try await apply(client, redis, a, to: b)
        var body: JSONObject = ["status": "agree"]
        if let remark { body["nickname"] = .string(remark) }
        #expect(try await post(client, "/api/chat/handleapply/\(request)", .object(body), b) == ok("ok"))
    }

    static func friendRow(_ redis: RedisClient, owner: Account, friend: Account) async throws -> JSONObject? {
        guard let text = try await redis.send("HGET", testKeys.friends(owner.id), String(friend.id)).string else { return nil }
        return try JSONParser.parse(text).objectValue
    }

    /// Request `id` to `recipient` (it lives in the recipient's partition).
    static func requestRow(_ redis: RedisClient, _ id: Int, to recipient: Account) async throws -> [String: String] {
        try await redis.send("HGETALL", testKeys.friendRequest(id, to: recipient.id)).fieldValues
    }

    static func zset(_ redis: RedisClient, _ key: String) async throws -> [Int] {
        (try await redis.send("ZRANGE", key, 0, -1).array ?? []).compactMap { $0.string.flatMap { Int($0) } }
    }

    static func setNickname(_ redis: RedisClient, _ account: Account, _ nickname: String) async throws {
        _ = try await redis.send("HSET", testKeys.user(account.id), "nickname", nickname).throwingOnError()
    }

    /// The offline queue's messages, parsed (references to a body stored once resolved).
    static func queued(_ redis: RedisClient, _ account: Account) async throws -> [JSONObject] {
        try await OfflineQueueTests.messages(redis, account.id).compactMap {
            $0.flatMap { try? JSONParser.parse(Array($0.utf8)).objectValue }
        }
    }

    struct EntityEvent {
        let fields: [String]
        let entity: String
        let op: String
        let id: Int64
        let version: Int64
        let row: JSONObject
    }

    /// The id of the newest entry of any shard of the entity stream: events after it are
    /// this test's (and others'). Stream ids follow one clock on one Redis.
    static func streamMark(_ redis: RedisClient) async throws -> String {
        var newest = "0-0"
        for shard in testKeys.shards(of: StreamName.entities) {
            let entry = try await redis.send("XREVRANGE", shard, "+", "-", "COUNT", 1).array?.first
            if let id = entry?.array?.first?.string, streamID(id) > streamID(newest) { newest = id }
        }
        return newest
    }

    private static func streamID(_ text: String) -> (Int64, Int64) {
        let parts = text.split(separator: "-").map { Int64($0) ?? 0 }
        return (parts.first ?? 0, parts.count > 1 ? parts[1] : 0)
    }

    /// The entity events after `mark` in every shard, oldest first.
    static func entityEntries(_ redis: RedisClient, after mark: String) async throws -> [RedisReply] {
        var entries: [RedisReply] = []
        for shard in testKeys.shards(of: StreamName.entities) {
            entries += try await redis.send("XRANGE", shard, "(" + mark, "+").array ?? []
        }
        return entries.sorted { streamID($0.array?.first?.string ?? "") < streamID($1.array?.first?.string ?? "") }
    }

    /// Whether one script run writes both users' events (one partition: always when plain),
    /// in one shard and so in one order; between partitions each step writes its own in its
    /// partition's shard, and two shards have no common order (docs/streams.md, *Shards*).
    static func onePartition(_ a: Account, _ b: Account) -> Bool {
        testKeys.layout.partition(ofUser: a.id) == testKeys.layout.partition(ofUser: b.id)
    }

    /// `events` in the order a test expects: as read when one partition, else sorted (the
    /// expected list sorted too, by the caller).
    /// (On a tagged layout even two users of one partition may get their events from the
    /// steps, in the steps' order: the order is exact on one Redis only.)
    static func ordered(_ events: [String], _ a: Account, _ b: Account) -> [String] {
        !testKeys.layout.isTagged && onePartition(a, b) ? events : events.sorted()
    }

    /// The friend events after `mark` whose rows are between the given users only.
    static func friendEvents(_ redis: RedisClient, after mark: String, among users: [Account]) async throws -> [EntityEvent] {
        let ids = Set(users.map { Int64($0.id) })
        let entries = try await entityEntries(redis, after: mark)
        return entries.compactMap { entry -> EntityEvent? in
            guard let flat = entry.array?.last?.array else { return nil }
            let names = stride(from: 0, to: flat.count, by: 2).compactMap { flat[$0].string }
            let map = entry.array?.last?.fieldValues ?? [:]
            guard let entity = map["entity"], ["goodfriend", "goodfriendapply"].contains(entity),
                  let row = map["row"].flatMap({ try? JSONParser.parse($0).objectValue }),
                  let owner = row["user_id"]?.integerValue, let friend = row["friend_id"]?.integerValue,
                  ids.contains(owner), ids.contains(friend)
            else { return nil }
            return EntityEvent(
                fields: names, entity: entity, op: map["op"] ?? "", id: Int64(map["id"] ?? "") ?? -1,
                version: Int64(map["version"] ?? "") ?? -1, row: row
            )
        }
    }

    static func visitorToken(for account: Account, _ redis: RedisClient) async throws -> String {
        let token = try await TokenService(secret: TestBridge.secret).sign(userID: account.id, role: .visitor)
        _ = try await redis.send("SET", testKeys.userToken(account.id), token)
        return token
    }

    // MARK: applyfriend

    @Test("applyfriend: validation and refusals, the request row, its keys, event and notice")
    func applyfriend() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            let them = try await UserTests.register(client)
            try await Self.setNickname(redis, me, "小明")
            let apply = { (body: JSONValue) in try await Self.post(client, "/api/chat/applyfriend", body, me) }
            #expect(try await apply([:]) == Self.fail("参数friend_id不能为空"))
            #expect(try await apply(["friend_id": "abc"]) == Self.fail("参数friend_id必须是整数"))
            #expect(try await apply(["friend_id": 0]) == Self.fail("参数friend_id不能小于1"))
            #expect(try await apply(["friend_id": Self.id(them), "nickname": .string(String(repeating: "长", count: 51))])
                == Self.fail("参数nickname长度应在1-50之间"))
            #expect(try await apply(["friend_id": Self.id(me)]) == Self.fail("不能添加自己为好友"))
            #expect(try await apply(["friend_id": 999_999_999]) == Self.fail("添加的好友不存在"))
            let disabled = try await UserTests.register(client)
            _ = try await redis.send("HSET", testKeys.user(disabled.id), "status", "0")
            #expect(try await apply(["friend_id": Self.id(disabled)]) == Self.fail("添加的好友不存在"))

            let mark = try await Self.streamMark(redis)
            let status = try await AccountTests.call(client, "/api/chat/applyfriend", ["friend_id": .string(String(them.id)), "nickname": "我是小明"], token: me.token)
            #expect(status.status == .ok && status.body == Self.ok("ok"))
            #expect(try await apply(["friend_id": Self.id(them)]) == Self.fail("您已经申请过了，请勿重复申请"))

            let id = try await Self.requestID(redis, from: me, to: them)
            let row = try await Self.requestRow(redis, id, to: them)
            #expect(row["id"] == String(id) && row["user_id"] == String(me.id) && row["friend_id"] == String(them.id))
            #expect(row["nickname"] == "我是小明" && row["status"] == "pending" && row["order"] == "50" && row["_v"] == "1")
            #expect(row["create_time"]?.count == 19 && row["update_time"] == row["create_time"])
            #expect(try await Self.zset(redis, testKeys.friendRequestsTo(them.id)) == [id])
            #expect(try await Self.zset(redis, testKeys.pendingFriendRequestsTo(them.id)) == [id])

            let events = try await Self.friendEvents(redis, after: mark, among: [me, them])
            #expect(events.count == 1)
            let event = try #require(events.first)
            #expect(event.fields == ["v", "entity", "op", "id", "version", "row"])
            #expect(event.entity == "goodfriendapply" && event.op == "upsert" && event.id == Int64(id) && event.version == 1)
            #expect(event.row.keys == FriendRequestRow.columns)
            #expect(event.row["id"] == .integer(Int64(id)) && event.row["status"] == "pending" && event.row["order"] == 50)

            // The target's notice, queued while offline.
            let notices = try await Self.queued(redis, them)
            #expect(notices.count == 1)
            let notice = try #require(notices.first)
            let sender = JSONValue.string("redirect-applyFriend-\(me.id)")
            let expected: JSONObject = [
                "id": notice["id"] ?? .null, "from_id": sender, "from_name": "好友申请提醒",
                "from_avatar": .string(GuidanceMessages.defaultIconBase + "group.png"),
                "to_id": Self.id(them), "to_name": .string(them.username), "to_avatar": .string(BridgeSettings.defaultUserAvatar),
                "chatType": "single", "type": "text",
                "data": ["data": "用户[小明]申请添加您为好友，请尽快处理", "dataType": false, "otherData": nil],
                "options": [:], "create_time": notice["create_time"] ?? .null, "isremove": 0,
                "redirect": ["url": "/pages/applyMyfriend/applyMyfriend", "type": "navigateTo"], "msgidKey": sender,
            ]
            #expect(notice == expected)
            #expect(notice["id"]?.stringValue?.count == 36 && notice["create_time"]?.integerValue ?? 0 > 1_700_000_000_000)
            #expect(GuidanceMessages.defaultIconBase + "group.png" == BridgeSettings.defaultGroupAvatar)
        }
    }

    @Test("a new request after a refused one replaces its row: delete event, new id, sets cleaned")
    func applyAfterRefusal() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            let them = try await UserTests.register(client)
            let first = try await Self.apply(client, redis, me, to: them)
            #expect(try await Self.post(client, "/api/chat/handleapply/\(first)", ["status": "refuse"], them) == Self.ok("ok"))
            #expect(try await Self.requestRow(redis, first, to: them)["status"] == "refuse")
            #expect(try await Self.requestRow(redis, first, to: them)["_v"] == "2")
            #expect(try await Self.zset(redis, testKeys.pendingFriendRequestsTo(them.id)).isEmpty)

            let mark = try await Self.streamMark(redis)
            let second = try await Self.apply(client, redis, me, to: them)
            #expect(second != first)
            #expect(try await redis.send("EXISTS", testKeys.friendRequest(first, to: them.id)).integer == 0)
            #expect(try await Self.zset(redis, testKeys.friendRequestsTo(them.id)) == [second])
            #expect(try await Self.zset(redis, testKeys.pendingFriendRequestsTo(them.id)) == [second])
            let events = try await Self.friendEvents(redis, after: mark, among: [me, them])
            #expect(events.map { "\($0.op) \($0.id) v\($0.version)" } == ["delete \(first) v3", "upsert \(second) v1"])
            #expect(events.first?.row["status"] == "refuse")

            // Ignored requests are replaced too; pending and agreed ones are not.
            #expect(try await Self.post(client, "/api/chat/handleapply/\(second)", ["status": "ignore"], them) == Self.ok("ok"))
            let third = try await Self.apply(client, redis, me, to: them)
            #expect(try await Self.post(client, "/api/chat/handleapply/\(third)", ["status": "agree"], them) == Self.ok("ok"))
            #expect(try await Self.post(client, "/api/chat/applyfriend", ["friend_id": Self.id(them)], me) == Self.fail("您已经申请过了，请勿重复申请"))
            #expect(try await Self.zset(redis, testKeys.friendRequestsTo(them.id)) == [third])
        }
    }

    @Test("ten concurrent applyfriend of one pair: exactly one request")
    func concurrentApply() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            let them = try await UserTests.register(client)
            let answers = try await withThrowingTaskGroup(of: JSONValue.self) { group in
                for _ in 0..<10 {
                    group.addTask { try await Self.post(client, "/api/chat/applyfriend", ["friend_id": Self.id(them)], me) }
                }
                return try await group.reduce(into: [JSONValue]()) { $0.append($1) }
            }
            #expect(answers.filter { $0 == Self.ok("ok") }.count == 1)
            #expect(answers.filter { $0 == Self.fail("您已经申请过了，请勿重复申请") }.count == 9)
            #expect(try await Self.zset(redis, testKeys.friendRequestsTo(them.id)).count == 1)
            #expect(try await Self.queued(redis, them).count == 1)
        }
    }

    // MARK: listapplyfriend

    @Test("listapplyfriend: newest first with the applicant, pendingCount, pages; visitors refused")
    func listapplyfriend() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            let (a, b, c) = try await (UserTests.register(client), UserTests.register(client), UserTests.register(client))
            let first = try await Self.apply(client, redis, a, to: me, nickname: "I am a")
            let second = try await Self.apply(client, redis, b, to: me)
            let third = try await Self.apply(client, redis, c, to: me)
            #expect(try await Self.post(client, "/api/chat/handleapply/\(second)", ["status": "refuse"], me) == Self.ok("ok"))

            let list = try await Self.get(client, "/api/chat/listapplyfriend/1", me)
            let data = try #require(list.objectValue?["data"]?.objectValue)
            #expect(data.keys == ["alldata", "pendingCount"])
            #expect(data["pendingCount"] == 2)
            let rows = (data["alldata"]?.arrayValue ?? []).compactMap(\.objectValue)
            #expect(rows.map { $0["id"] } == [third, second, first].map { .integer(Int64($0)) })
            #expect(rows.map { $0["status"] } == ["pending", "refuse", "pending"])
            let oldest = try #require(rows.last)
            #expect(oldest.keys == FriendRequestRow.columns + ["user"])
            #expect(oldest["user_id"] == Self.id(a) && oldest["friend_id"] == Self.id(me) && oldest["nickname"] == "I am a")
            #expect(oldest["user"] == [
                "id": Self.id(a), "username": .string(a.username), "avatar": .string(BridgeSettings.defaultUserAvatar),
                "nickname": "", "uuid": .string(a.uuid),
            ])

            let page = try await Self.get(client, "/api/chat/listapplyfriend/2?limit=2", me)
            #expect(page.objectValue?["data"]?.objectValue?["alldata"]?.arrayValue?.compactMap { $0.objectValue?["id"] } == [.integer(Int64(first))])
            #expect(try await Self.get(client, "/api/chat/listapplyfriend/3?limit=2", me).objectValue?["data"]?.objectValue?["alldata"] == [])
            #expect(try await Self.get(client, "/api/chat/listapplyfriend/0", me) == Self.fail("参数page不能小于1"))
            #expect(try await Self.get(client, "/api/chat/listapplyfriend/x", me) == Self.fail("参数page必须是整数"))
            #expect(try await Self.get(client, "/api/chat/listapplyfriend/1?limit=x", me) == Self.fail("参数limit必须是整数"))
            #expect(try await Self.get(client, "/api/chat/listapplyfriend/1?limit=0", me) == Self.fail("参数limit不能小于1"))
            let fresh = try await UserTests.register(client)
            #expect(try await Self.get(client, "/api/chat/listapplyfriend/1", fresh) == Self.ok(["alldata": [], "pendingCount": 0]))
        }
    }

    // MARK: handleapply

    @Test("handleapply agree: both rows, the request agreed, quotas cleared, events, both notices")
    func handleapplyAgree() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let applicant = try await UserTests.register(client)
            let me = try await UserTests.register(client)
            let stranger = try await UserTests.register(client)
            try await Self.setNickname(redis, me, "小红")
            try await Self.setNickname(redis, applicant, "小明")
            let id = try await Self.apply(client, redis, applicant, to: me)
            let handle = { (path: String, body: JSONValue, account: Account) in try await Self.post(client, "/api/chat/handleapply/\(path)", body, account) }

            #expect(try await handle(String(id), [:], me) == Self.fail("参数status不能为空"))
            #expect(try await handle(String(id), ["status": "maybe"], me) == Self.fail("参数status的值只能是pending、refuse、agree、ignore"))
            #expect(try await handle(String(id), ["status": "agree", "nickname": .string(String(repeating: "x", count: 51))], me)
                == Self.fail("参数nickname长度应在1-50之间"))
            #expect(try await handle("abc", ["status": "agree"], me) == Self.fail("参数id必须是整数"))
            #expect(try await handle("0", ["status": "agree"], me) == Self.fail("参数id不能小于1"))
            #expect(try await handle("999999999", ["status": "agree"], me) == Self.fail("申请不存在或已处理"))
            // Only the request's recipient may handle it.
            #expect(try await handle(String(id), ["status": "agree"], stranger) == Self.fail("申请不存在或已处理"))
            #expect(try await handle(String(id), ["status": "agree"], applicant) == Self.fail("申请不存在或已处理"))
            // Messages sent before the friendship are counted in both directions.
            _ = try await redis.send("HSET", testKeys.quota(applicant.id), String(me.id), "1", String(stranger.id), "1")
            _ = try await redis.send("HSET", testKeys.quota(me.id), String(applicant.id), "1")

            let mark = try await Self.streamMark(redis)
            #expect(try await handle(String(id), ["status": "agree", "nickname": "老同学"], me) == Self.ok("ok"))
            #expect(try await handle(String(id), ["status": "agree"], me) == Self.fail("申请不存在或已处理"))

            let request = try await Self.requestRow(redis, id, to: me)
            #expect(request["status"] == "agree" && request["_v"] == "2")
            #expect(try await Self.zset(redis, testKeys.pendingFriendRequestsTo(me.id)).isEmpty)
            #expect(try await Self.zset(redis, testKeys.friendRequestsTo(me.id)) == [id])

            let mine = try #require(try await Self.friendRow(redis, owner: me, friend: applicant))
            let theirs = try #require(try await Self.friendRow(redis, owner: applicant, friend: me))
            #expect(mine.keys == FriendRow.columns + ["_v"])
            #expect(theirs.keys == FriendRow.columns + ["_v"])
            let created = try #require(mine["create_time"])
            let expectedMine: JSONObject = [
                "id": mine["id"] ?? .null, "user_id": Self.id(me), "friend_id": Self.id(applicant), "nickname": "老同学",
                "friendlookme": 1, "melookfriend": 1, "ismystarfriend": 0, "isblack": 0, "status": 1, "order": 50,
                "create_time": created, "update_time": created, "_v": 1,
            ]
            #expect(mine == expectedMine)
            #expect(theirs["user_id"] == Self.id(applicant) && theirs["friend_id"] == Self.id(me) && theirs["nickname"] == "小红")
            #expect(theirs["id"] != mine["id"])
            #expect(try await redis.send("HEXISTS", testKeys.quota(applicant.id), String(me.id)).integer == 0)
            #expect(try await redis.send("HEXISTS", testKeys.quota(me.id), String(applicant.id)).integer == 0)
            #expect(try await redis.send("HEXISTS", testKeys.quota(applicant.id), String(stranger.id)).integer == 1)

            let events = try await Self.friendEvents(redis, after: mark, among: [me, applicant])
            #expect(Self.ordered(events.map { "\($0.entity) \($0.op) v\($0.version)" }, me, applicant) == Self.ordered([
                "goodfriendapply upsert v2", "goodfriend upsert v1", "goodfriend upsert v1",
            ], me, applicant))
            #expect(events.allSatisfy { $0.fields == ["v", "entity", "op", "id", "version", "row"] })
            // (mine then theirs when one partition; else each in its partition's shard)
            let rows = Self.onePartition(me, applicant) ? Array(events.dropFirst()) : events.filter { $0.entity == "goodfriend" }
                .sorted { ($0.id == mine["id"]?.integerValue ? 0 : 1) < ($1.id == mine["id"]?.integerValue ? 0 : 1) }
            #expect(rows.count == 2 && rows[0].row.keys == FriendRow.columns)
            #expect(rows[0].id == mine["id"]?.integerValue && rows[0].row["nickname"] == "老同学")
            #expect(rows[1].id == theirs["id"]?.integerValue)

            // Each side hears it from the other, named by the recipient's remark.
            let toApplicant = try #require(try await Self.queued(redis, applicant).last)
            #expect(toApplicant["type"] == "systemNotice" && toApplicant["chatType"] == "single")
            #expect(toApplicant["data"] == ["data": "我们已经是好友了，可以开始聊天了", "dataType": false, "otherData": nil])
            #expect(toApplicant["from_id"] == Self.id(me) && toApplicant["from_name"] == "小红")
            #expect(toApplicant["to_id"] == Self.id(applicant) && toApplicant["to_name"] == "老同学")
            let toMe = try #require(try await Self.queued(redis, me).last)
            #expect(toMe["from_id"] == Self.id(applicant) && toMe["from_name"] == "老同学")
            #expect(toMe["to_id"] == Self.id(me) && toMe["to_name"] == "小红")
            #expect(toMe["from_avatar"] == .string(BridgeSettings.defaultUserAvatar))
        }
    }

    @Test("twenty concurrent agrees of one request: one ok, each row once")
    func concurrentAgree() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let applicant = try await UserTests.register(client)
            let me = try await UserTests.register(client)
            let id = try await Self.apply(client, redis, applicant, to: me)
            let mark = try await Self.streamMark(redis)
            let answers = try await withThrowingTaskGroup(of: JSONValue.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await Self.post(client, "/api/chat/handleapply/\(id)", ["status": "agree"], me) }
                }
                return try await group.reduce(into: [JSONValue]()) { $0.append($1) }
            }
            #expect(answers.filter { $0 == Self.ok("ok") }.count == 1)
            #expect(answers.filter { $0 == Self.fail("申请不存在或已处理") }.count == 19)
            #expect(try await redis.send("HLEN", testKeys.friends(me.id)).integer == 1)
            #expect(try await redis.send("HLEN", testKeys.friends(applicant.id)).integer == 1)
            let events = try await Self.friendEvents(redis, after: mark, among: [me, applicant])
            #expect(events.filter { $0.entity == "goodfriend" }.count == 2)
            // The request's notice, then one agreement each.
            #expect(try await Self.queued(redis, me).count == 2)
            #expect(try await Self.queued(redis, applicant).count == 1)
        }
    }

    @Test("crossing requests agreed concurrently: two rows in all")
    func crossingRequests() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            for _ in 0..<5 {
                let a = try await UserTests.register(client)
                let b = try await UserTests.register(client)
                let aToB = try await Self.apply(client, redis, a, to: b)
                let bToA = try await Self.apply(client, redis, b, to: a)
                let mark = try await Self.streamMark(redis)
                async let first = Self.post(client, "/api/chat/handleapply/\(aToB)", ["status": "agree", "nickname": "B's name for A"], b)
                async let second = Self.post(client, "/api/chat/handleapply/\(bToA)", ["status": "agree", "nickname": "A's name for B"], a)
                #expect(try await [first, second] == [Self.ok("ok"), Self.ok("ok")])
                #expect(try await redis.send("HLEN", testKeys.friends(a.id)).integer == 1)
                #expect(try await redis.send("HLEN", testKeys.friends(b.id)).integer == 1)
                let events = try await Self.friendEvents(redis, after: mark, among: [a, b])
                #expect(events.filter { $0.entity == "goodfriend" }.count == 2)
                #expect(try await Self.requestRow(redis, aToB, to: b)["status"] == "agree")
                #expect(try await Self.requestRow(redis, bToA, to: a)["status"] == "agree")
            }
        }
    }

    // MARK: autoAddFriendAndAgree

    @Test("autoAddFriendAndAgree: refusals, an agreed request and both rows at once, notices")
    func autoAdd() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            let them = try await UserTests.register(client)
            try await Self.setNickname(redis, me, "小明")
            let add = { (body: JSONValue) in try await Self.post(client, "/api/chat/autoAddFriendAndAgree", body, me) }
            #expect(try await add([:]) == Self.fail("参数friend_id不能为空"))
            #expect(try await add(["friend_id": Self.id(me)]) == Self.fail("不能添加自己为好友"))
            #expect(try await add(["friend_id": 999_999_999]) == Self.fail("添加的好友不存在"))
            _ = try await redis.send("HSET", testKeys.user(them.id), "invite_confirm", "1")
            #expect(try await add(["friend_id": Self.id(them)]) == Self.fail("需要对方审核，不能自动加对方为好友"))
            _ = try await redis.send("HSET", testKeys.user(them.id), "invite_confirm", "0")

            let mark = try await Self.streamMark(redis)
            #expect(try await add(["friend_id": Self.id(them), "nickname": "扫码添加"]) == Self.ok("ok"))
            #expect(try await add(["friend_id": Self.id(them)]) == Self.fail("您已经申请过了，请勿重复申请"))
            let id = try await Self.requestID(redis, from: me, to: them)
            let request = try await Self.requestRow(redis, id, to: them)
            #expect(request["status"] == "agree" && request["nickname"] == "扫码添加")
            #expect(try await Self.zset(redis, testKeys.friendRequestsTo(them.id)) == [id])
            #expect(try await Self.zset(redis, testKeys.pendingFriendRequestsTo(them.id)).isEmpty)
            #expect(try await Self.friendRow(redis, owner: me, friend: them)?["nickname"] == "")
            #expect(try await Self.friendRow(redis, owner: them, friend: me)?["nickname"] == "小明")
            let events = try await Self.friendEvents(redis, after: mark, among: [me, them])
            #expect(events.map { "\($0.entity) \($0.op) v\($0.version)" } == [
                "goodfriendapply upsert v1", "goodfriend upsert v1", "goodfriend upsert v1",
            ])
            #expect(try await Self.queued(redis, them).last?["from_name"] == "小明")
            #expect(try await Self.queued(redis, them).last?["to_name"] == .string(them.username))
            #expect(try await Self.queued(redis, me).last?["from_name"] == .string(them.username))
        }
    }

    // MARK: goodfriendlist

    @Test("goodfriendlist: grouped by pinyin initial, A–Z then #, by row id within a group; pages")
    func goodfriendlist() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            #expect(try await Self.get(client, "/api/chat/goodfriendlist/1", me) == Self.ok(["count": 0, "rows": []]))

            let zhang = try await UserTests.register(client)
            let alice = try await UserTests.register(client, "alice" + AccountTests.name().prefix(8))
            let digits = try await UserTests.register(client, "123" + AccountTests.name().prefix(8))
            let zhao = try await UserTests.register(client)
            let remarked = try await UserTests.register(client)
            try await Self.setNickname(redis, zhang, "张三")
            try await Self.setNickname(redis, zhao, "赵六")
            try await Self.setNickname(redis, remarked, "zed")
            for friend in [zhang, digits, alice, zhao] {
                try await Self.befriend(client, redis, friend, me)
            }
            try await Self.befriend(client, redis, remarked, me, remark: "李四")

            let list = try await Self.get(client, "/api/chat/goodfriendlist/1", me)
            let data = try #require(list.objectValue?["data"]?.objectValue)
            #expect(data.keys == ["count", "rows"])
            #expect(data["count"] == 5)
            let rows = try #require(data["rows"]?.objectValue)
            #expect(rows.keys == ["newList", "indexList", "total"])
            #expect(rows["indexList"] == ["A", "L", "Z", "#"])
            #expect(rows["total"] == 5)
            let groups = (rows["newList"]?.arrayValue ?? []).compactMap(\.objectValue)
            try #require(groups.count == 4)
            #expect(groups.map { $0["title"] } == ["A", "L", "Z", "#"])
            let names = groups.map { $0["list"]?.arrayValue?.compactMap { $0.objectValue?["name"] } ?? [] }
            #expect(names == [[.string(alice.username)], ["李四"], ["张三", "赵六"], [.string(digits.username)]])

            let entry = try #require(groups[1]["list"]?.arrayValue?.first?.objectValue)
            let row = try #require(try await Self.friendRow(redis, owner: me, friend: remarked))
            #expect(entry == [
                "id": row["id"] ?? .null, "beizhu": "李四", "username": .string(remarked.username),
                "avatar": .string(BridgeSettings.defaultUserAvatar), "friend_nickname": "zed", "friend_id": Self.id(remarked),
                "name": "李四", "uuid": .string(remarked.uuid),
            ])

            // Pages slice by row id: zhang, digits | alice, zhao | remarked.
            let second = try await Self.get(client, "/api/chat/goodfriendlist/2?limit=2", me)
            let secondData = try #require(second.objectValue?["data"]?.objectValue)
            #expect(secondData["count"] == 2)
            #expect(secondData["rows"]?.objectValue?["indexList"] == ["A", "Z"])
            #expect(try await Self.get(client, "/api/chat/goodfriendlist/4?limit=2", me) == Self.ok(["count": 0, "rows": []]))
            #expect(try await Self.get(client, "/api/chat/goodfriendlist/0", me) == Self.fail("参数page不能小于1"))
        }
    }

    // MARK: One friendship's settings

    @Test("getgoodfriendinfo, setblack, setstar, setmeOrfriendCanSee, ismygoodfriend")
    func friendSettings() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            let friend = try await UserTests.register(client)
            let stranger = try await UserTests.register(client)
            try await Self.befriend(client, redis, friend, me, remark: "好友")

            // getgoodfriendinfo
            #expect(try await Self.get(client, "/api/chat/getgoodfriendinfo/\(stranger.id)", me) == Self.fail("好友不存在"))
            #expect(try await Self.get(client, "/api/chat/getgoodfriendinfo/x", me) == Self.fail("参数id必须是整数"))
            let info = try #require(try await Self.get(client, "/api/chat/getgoodfriendinfo/\(friend.id)", me).objectValue?["data"]?.objectValue)
            let row = try #require(try await Self.friendRow(redis, owner: me, friend: friend))
            #expect(info.keys == ["id", "user_id", "friend_id", "nickname", "friendinfo"])
            #expect(info["id"] == row["id"] && info["user_id"] == Self.id(me) && info["friend_id"] == Self.id(friend) && info["nickname"] == "好友")
            let friendInfo = try #require(info["friendinfo"]?.objectValue)
            #expect(friendInfo.keys == ["id", "username", "avatar", "nickname", "role", "status", "userinfo"])
            #expect(friendInfo["role"] == "user" && friendInfo["status"] == 1 && friendInfo["username"] == .string(friend.username))
            #expect(friendInfo["userinfo"]?.objectValue?.keys == ["id", "gender", "birthday", "bio", "location", "website"])

            // ismygoodfriend: my row without order and times.
            let mine = try #require(try await Self.post(client, "/api/chat/ismygoodfriend/\(friend.id)", [:], me).objectValue?["data"]?.objectValue)
            #expect(mine.keys == ["id", "user_id", "friend_id", "nickname", "friendlookme", "melookfriend", "ismystarfriend", "isblack", "status"])
            #expect(try await Self.post(client, "/api/chat/ismygoodfriend/\(stranger.id)", [:], me) == Self.fail("不是好友"))

            let mark = try await Self.streamMark(redis)
            let post = { (path: String, body: JSONValue) in try await Self.post(client, "/api/chat/\(path)", body, me) }
            #expect(try await post("setblackgoodfriend/\(stranger.id)", [:]) == Self.fail("好友不存在"))
            #expect(try await post("setstargoodfriend/\(stranger.id)", [:]) == Self.fail("好友不存在或者被拉黑，无法操作"))
            #expect(try await post("setmeOrfriendCanSee/\(stranger.id)", ["friendlookme": 0, "melookfriend": 0]) == Self.fail("好友不存在或者被拉黑，无法操作"))
            #expect(try await post("setmeOrfriendCanSee/\(friend.id)", ["friendlookme": 2, "melookfriend": 0]) == Self.fail("参数friendlookme的值只能是0、1"))
            #expect(try await post("setmeOrfriendCanSee/\(friend.id)", ["friendlookme": 0]) == Self.fail("参数melookfriend不能为空"))
            #expect(try await post("setblackgoodfriend/0", [:]) == Self.fail("参数id不能小于1"))

            // Blacklisted: star, visibility and ismygoodfriend refuse; getgoodfriendinfo still answers.
            #expect(try await post("setblackgoodfriend/\(friend.id)", [:]) == Self.ok("ok"))
            #expect(try await Self.friendRow(redis, owner: me, friend: friend)?["isblack"] == 1)
            #expect(try await post("setstargoodfriend/\(friend.id)", [:]) == Self.fail("好友不存在或者被拉黑，无法操作"))
            #expect(try await post("setmeOrfriendCanSee/\(friend.id)", ["friendlookme": 0, "melookfriend": 0]) == Self.fail("好友不存在或者被拉黑，无法操作"))
            #expect(try await post("ismygoodfriend/\(friend.id)", [:]) == Self.fail("不是好友"))
            #expect(try await Self.get(client, "/api/chat/getgoodfriendinfo/\(friend.id)", me).objectValue?["msg"] == "ok")
            #expect(try await post("setblackgoodfriend/\(friend.id)", [:]) == Self.ok("ok"))

            #expect(try await post("setstargoodfriend/\(friend.id)", [:]) == Self.ok("ok"))
            #expect(try await post("setmeOrfriendCanSee/\(friend.id)", ["friendlookme": "0", "melookfriend": 1]) == Self.ok("ok"))
            let after = try #require(try await Self.friendRow(redis, owner: me, friend: friend))
            #expect(after["isblack"] == 0 && after["ismystarfriend"] == 1 && after["friendlookme"] == 0 && after["melookfriend"] == 1)
            #expect(after["_v"] == 5 && after.keys == FriendRow.columns + ["_v"])
            // The friend's own row is untouched.
            #expect(try await Self.friendRow(redis, owner: friend, friend: me)?["_v"] == 1)

            let events = try await Self.friendEvents(redis, after: mark, among: [me, friend])
            #expect(events.map(\.version) == [2, 3, 4, 5])
            #expect(events.allSatisfy { $0.entity == "goodfriend" && $0.op == "upsert" && $0.id == row["id"]?.integerValue })
            #expect(events.map { $0.row["isblack"] } == [1, 0, 0, 0])
            #expect(events.last?.row.keys == FriendRow.columns)
        }
    }

    // MARK: deletegoodfriend

    @Test("deletegoodfriend: both rows and both directions' requests, each with its delete event")
    func deletegoodfriend() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            let friend = try await UserTests.register(client)
            #expect(try await Self.post(client, "/api/chat/deletegoodfriend/\(friend.id)", [:], me) == Self.fail("不是好友关系，无权操作"))
            try await Self.befriend(client, redis, friend, me)
            let theirRequest = try await Self.requestID(redis, from: friend, to: me)
            // A request of mine to them, refused (a row in the other direction).
            let myRequest = try await Self.apply(client, redis, me, to: friend)
            #expect(try await Self.post(client, "/api/chat/handleapply/\(myRequest)", ["status": "refuse"], friend) == Self.ok("ok"))
            let myRow = try #require(try await Self.friendRow(redis, owner: me, friend: friend))
            let theirRow = try #require(try await Self.friendRow(redis, owner: friend, friend: me))

            let mark = try await Self.streamMark(redis)
            #expect(try await Self.post(client, "/api/chat/deletegoodfriend/\(friend.id)", [:], me) == Self.ok("删除好友成功"))
            #expect(try await Self.friendRow(redis, owner: me, friend: friend) == nil)
            #expect(try await Self.friendRow(redis, owner: friend, friend: me) == nil)
            #expect(try await redis.send("EXISTS", testKeys.friendRequest(theirRequest, to: me.id)).integer == 0)
            #expect(try await redis.send("EXISTS", testKeys.friendRequest(myRequest, to: friend.id)).integer == 0)
            #expect(try await redis.send("EXISTS", testKeys.friendRequestPair(from: me.id, to: friend.id)).integer == 0)
            #expect(try await redis.send("EXISTS", testKeys.friendRequestPair(from: friend.id, to: me.id)).integer == 0)
            #expect(try await Self.zset(redis, testKeys.friendRequestsTo(me.id)).isEmpty)
            #expect(try await Self.zset(redis, testKeys.friendRequestsTo(friend.id)).isEmpty)

            let events = try await Self.friendEvents(redis, after: mark, among: [me, friend])
            #expect(events.allSatisfy { $0.op == "delete" })
            #expect(Self.ordered(events.map { "\($0.entity) \($0.id) v\($0.version)" }, me, friend) == Self.ordered([
                "goodfriend \(myRow["id"]?.integerValue ?? 0) v2", "goodfriend \(theirRow["id"]?.integerValue ?? 0) v2",
                "goodfriendapply \(myRequest) v3", "goodfriendapply \(theirRequest) v3",
            ], me, friend))
            #expect(events.first?.row.keys == FriendRow.columns)
            #expect(events.last?.row.keys == FriendRequestRow.columns)

            #expect(try await Self.post(client, "/api/chat/deletegoodfriend/\(friend.id)", [:], me) == Self.fail("不是好友关系，无权操作"))
            // They can ask again.
            _ = try await Self.apply(client, redis, me, to: friend)
        }
    }

    // MARK: The scripts themselves

    @Test("the scripts refuse bad arguments and a changed pair key before writing anything")
    func scriptRefusals() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let scripts = await TestBridge.dependencies(redis: redis).scripts
        let me = Int.random(in: 100_000_000...999_999_999)
        let them = me + 1
        _ = try await redis.send("HSET", testKeys.user(them), "status", "1")
        _ = try await redis.send("SET", testKeys.friendRequestPair(from: me, to: them), "77")
        let keys: [any RedisArgument] = [
            testKeys.user(them), testKeys.friendRequestPair(from: me, to: them), testKeys.friendRequest(me, to: them),
            testKeys.friendRequestsTo(them), testKeys.pendingFriendRequestsTo(them), testKeys.stream(StreamName.entities, partition: testKeys.layout.partition(ofUser: them)),
            testKeys.blocks(them),
        ]
        let apply = { (cap: String, old: String, keys: [any RedisArgument]) in
            try await scripts.run("friend_request", keys: keys, arguments: ["apply", cap, "2026-01-01 00:00:00", String(me), String(them), String(me), "", old]).scriptError
        }
        #expect(try await apply("x", "", keys) == "bad_arguments")
        #expect(try await apply("100", "77", keys) == "bad_arguments")  // an old id without its key
        #expect(try await apply("100", "", keys) == "stale")
        #expect(try await redis.send("EXISTS", testKeys.friendRequest(me, to: them)).integer == 0)
        let update = try await scripts.run("friend_update", keys: [testKeys.friends(me), testKeys.stream(StreamName.entities, partition: testKeys.layout.partition(ofUser: me))], arguments: ["see", "100", "now", String(them), "2", "0"])
        #expect(update.scriptError == "bad_arguments")
        let unknown = try await scripts.run("friend_update", keys: [testKeys.friends(me), testKeys.stream(StreamName.entities, partition: testKeys.layout.partition(ofUser: me))], arguments: ["nope", "100", "now", String(them)])
        #expect(unknown.scriptError == "bad_arguments")
    }

    // MARK: Visitors

    @Test("visitor tokens: applyfriend, autoAddFriendAndAgree, ismygoodfriend, deletegoodfriend only")
    func visitorAccess() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let visitor = try await UserTests.register(client)
            let target = try await UserTests.register(client)
            let other = try await UserTests.register(client)
            let token = try await Self.visitorToken(for: visitor, redis)
            let post = { (path: String, body: JSONValue) in try await AccountTests.call(client, "/api/chat/\(path)", body, token: token).body }
            let forbidden = Self.fail(ChatAuthMiddleware.visitorForbidden)
            #expect(try await post("applyfriend", ["friend_id": Self.id(target)]) == Self.ok("ok"))
            #expect(try await post("autoAddFriendAndAgree", ["friend_id": Self.id(other)]) == Self.ok("ok"))
            #expect(try await post("ismygoodfriend/\(other.id)", [:]).objectValue?["msg"] == "ok")
            #expect(try await post("deletegoodfriend/\(other.id)", [:]) == Self.ok("删除好友成功"))
            for path in ["handleapply/1", "setblackgoodfriend/1", "setstargoodfriend/1", "setmeOrfriendCanSee/1"] {
                #expect(try await post(path, ["status": "agree"]) == forbidden, "\(path)")
            }
            for path in ["listapplyfriend/1", "goodfriendlist/1", "getgoodfriendinfo/1"] {
                #expect(try await Self.get(client, "/api/chat/\(path)", token: token) == forbidden, "\(path)")
            }
        }
    }

    // MARK: Notices over WebSocket

    /// The `data` of the next `singleChat` frame, skipping guidance messages.
    static func nextNotice(_ socket: WebSocketTestClient) async throws -> JSONObject {
        while true {
            let frame = try JSONParser.parse(try await socket.nextText()).objectValue
            guard frame?["type"] == "singleChat", let message = frame?["data"]?.objectValue else { continue }
            if message["from_id"]?.stringValue?.hasPrefix("redirect-applyFriend-") == true || message["from_id"]?.integerValue != nil {
                return message
            }
        }
    }

    @Test("notices over WebSocket: the request to the target, the agreement to both, the queue for the offline", .timeLimit(.minutes(1)))
    func notices() async throws {
        let bridge = try await BridgeProcess(redisURL: try TestEnvironment.redisURL())
        let applicant = try bridge.register()
        let target = try bridge.register()
        #expect(try bridge.post("/api/chat/updateUserinfo", ["fieldname": "nickname", "fieldValue": "小明"], token: applicant.token).status == 200)
        #expect(try bridge.post("/api/chat/updateUserinfo", ["fieldname": "nickname", "fieldValue": "小红"], token: target.token).status == 200)
        let (targetSocket, _) = try await DeliveryTests.connected(bridge, target.token)
        let (applicantSocket, _) = try await DeliveryTests.connected(bridge, applicant.token)

        #expect(try bridge.post("/api/chat/applyfriend", ["friend_id": target.id], token: applicant.token).status == 200)
        let request = try await Self.nextNotice(targetSocket)
        let sender = JSONValue.string("redirect-applyFriend-\(applicant.id)")
        #expect(request.keys == [
            "id", "from_id", "from_name", "from_avatar", "to_id", "to_name", "to_avatar", "chatType", "type", "data", "options",
            "create_time", "isremove", "redirect", "msgidKey",
        ])
        #expect(request["from_id"] == sender && request["msgidKey"] == sender && request["from_name"] == "好友申请提醒")
        #expect(request["from_avatar"] == .string(BridgeSettings.defaultGroupAvatar))
        #expect(request["to_id"] == .integer(Int64(target.id)) && request["to_name"] == "小红")
        #expect(request["to_avatar"] == .string(BridgeSettings.defaultUserAvatar))
        #expect(request["type"] == "text" && request["chatType"] == "single")
        #expect(request["data"] == ["data": "用户[小明]申请添加您为好友，请尽快处理", "dataType": false, "otherData": nil])
        #expect(request["redirect"] == ["url": "/pages/applyMyfriend/applyMyfriend", "type": "navigateTo"])

        // The target agrees, naming the applicant "老同学"; the applicant's row names the target by her nickname.
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let id = try #require(try await redis.send("GET", testKeys.friendRequestPair(from: applicant.id, to: target.id)).integer)
        let agreed = try bridge.post("/api/chat/handleapply/\(id)", ["status": "agree", "nickname": "老同学"], token: target.token)
        #expect(agreed.status == 200 && agreed.body["data"] as? String == "ok")
        let toApplicant = try await Self.nextNotice(applicantSocket)
        #expect(toApplicant["type"] == "systemNotice")
        #expect(toApplicant["data"] == ["data": "我们已经是好友了，可以开始聊天了", "dataType": false, "otherData": nil])
        #expect(toApplicant["from_id"] == .integer(Int64(target.id)) && toApplicant["from_name"] == "小红")
        #expect(toApplicant["to_id"] == .integer(Int64(applicant.id)) && toApplicant["to_name"] == "老同学")
        let toTarget = try await Self.nextNotice(targetSocket)
        #expect(toTarget["from_id"] == .integer(Int64(applicant.id)) && toTarget["from_name"] == "老同学")
        #expect(toTarget["to_id"] == .integer(Int64(target.id)) && toTarget["to_name"] == "小红")

        // Offline: the request waits in the queue and arrives on connect, before the welcome.
        let offline = try bridge.register()
        #expect(try bridge.post("/api/chat/applyfriend", ["friend_id": offline.id], token: applicant.token).status == 200)
        let (offlineSocket, beforeWelcome) = try await DeliveryTests.connected(bridge, offline.token)
        let queued = beforeWelcome.compactMap { try? JSONParser.parse($0).objectValue?["data"]?.objectValue }
        #expect(queued.count == 1)
        #expect(queued.first?["from_id"] == sender && queued.first?["to_name"] == .string(offline.username))
        for socket in [targetSocket, applicantSocket, offlineSocket] { await socket.close() }
    }
}
