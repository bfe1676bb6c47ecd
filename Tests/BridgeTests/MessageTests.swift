import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Model
import NIOCore
import RedisClient
import Testing
import TestSupport

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// docs/api.md *Messages* for single chat over HTTP: the rules and their exact texts, the
/// message object, history, the stream entry, the quota under concurrency, revoke.
@Suite("Single-chat messages", .offCooperativePool)
struct MessageTests {
    typealias Account = UserTests.Account

    static func send(
        _ client: some TestClientProtocol, _ from: Account, to: Int, _ extra: JSONObject = [:]
    ) async throws -> (status: HTTPResponse.Status, body: JSONValue) {
        var body: JSONObject = ["sendto_id": .integer(Int64(to)), "chatType": "single", "type": "text", "data": "hello"]
        for (key, value) in extra.members { body[key] = value }
        return try await AccountTests.call(client, "/api/chat/socket/sendmessage", .object(body), token: from.token)
    }

    /// The message object of an accepted send.
    static func sent(
        _ client: some TestClientProtocol, _ from: Account, to: Int, _ extra: JSONObject = [:]
    ) async throws -> JSONObject {
        let response = try await send(client, from, to: to, extra)
        #expect(response.status == .ok, "\(response.body)")
        return try #require(response.body.objectValue?["data"]?.objectValue, "\(response.body)")
    }

    static func visitor(_ client: some TestClientProtocol) async throws -> Account {
        let response = try await VisitorTests.signed(client, "/api/visitorRegister", device: VisitorTests.deviceID())
        let data = try #require(VisitorTests.data(response))
        return Account(
            id: Int(try #require(data["id"]?.integerValue)), uuid: try #require(data["uuid"]?.stringValue),
            username: try #require(data["username"]?.stringValue), token: try #require(data["token"]?.stringValue)
        )
    }

    /// A `goodfriend` row as the friend endpoints write it.
    static func befriend(
        _ redis: RedisClient, owner: Int, friend: Int, remark: String = "", isblack: Int = 0, status: Int = 1
    ) async throws {
        let row: JSONValue = [
            "id": .integer(Int64(owner * 1000 + friend)), "user_id": .integer(Int64(owner)), "friend_id": .integer(Int64(friend)),
            "nickname": .string(remark), "friendlookme": 1, "melookfriend": 1, "ismystarfriend": 0,
            "isblack": .integer(Int64(isblack)), "status": .integer(Int64(status)), "order": 50,
            "create_time": "2026-11-21 10:00:00", "update_time": "2026-11-21 10:00:00", "_v": 1,
        ]
        _ = try await redis.send("HSET", testKeys.friends(owner), String(friend), JSONSerializer.string(row))
    }

    static func chatset(_ redis: RedisClient, _ user: Int, user sendCount: Int, visitor visitorCount: Int) async throws {
        let userset = #"{"chatset":{"visitor":{"sendCount":\#(visitorCount),"needFollow":false},"user":{"sendCount":\#(sendCount),"needFollow":true}}}"#
        _ = try await redis.send("HSET", testKeys.user(user), "userset", userset)
    }

    static func history(_ redis: RedisClient, owner: Int, peer: Int) async throws -> [JSONObject] {
        let entries = try await redis.send("LRANGE", testKeys.singleHistory(owner: owner, peer: peer), 0, -1).array ?? []
        return entries.compactMap { $0.bytes.flatMap { try? JSONParser.parse($0).objectValue } }
    }

    static func fail(_ text: String) -> JSONValue { AccountTests.fail(text) }

    @Test("the message object: fields, names, data and options as sent; history of both; queued for an offline recipient")
    func messageObject() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let (me, you) = try await (UserTests.register(client), UserTests.register(client))
            let options = URIComponent.encode(#"{"askanswer":true,"note":"中文"}"#)
            let message = try await Self.sent(client, me, to: you.id, ["type": "image", "data": ["data": "x.png", "dataType": "image", "otherData": nil], "options": .string(options)])
            #expect(message.keys == [
                "id", "from_id", "from_name", "from_avatar", "to_id", "to_name", "to_avatar", "chatType", "type", "data",
                "options", "create_time", "isremove", "sendUUid",
            ])
            #expect(message["id"]?.stringValue?.count == 36)
            #expect(message["from_id"] == .integer(Int64(me.id)) && message["to_id"] == .integer(Int64(you.id)))
            #expect(message["from_name"] == .string(me.username) && message["to_name"] == .string(you.username))
            #expect(message["from_avatar"] == .string(BridgeSettings.defaultUserAvatar))
            #expect(message["chatType"] == "single" && message["type"] == "image" && message["isremove"] == 0)
            #expect(message["data"] == ["data": "x.png", "dataType": "image", "otherData": nil])
            #expect(message["options"] == ["askanswer": true, "note": "中文"])
            #expect(message["sendUUid"] == .string(me.uuid))
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            #expect(abs((message["create_time"]?.integerValue ?? 0) - now) < 5000)

            #expect(try await Self.history(redis, owner: me.id, peer: you.id) == [message])
            #expect(try await Self.history(redis, owner: you.id, peer: me.id) == [message])
            let queued = try await redis.send("LRANGE", testKeys.offlineQueue(you.id), 0, -1).array ?? []
            #expect(queued.compactMap { $0.bytes.flatMap { try? JSONParser.parse($0) } } == [.object(message)])

            // options that do not decode are null; a string data stays a string
            try await Self.chatset(redis, me.id, user: 2, visitor: 2)
            let plain = try await Self.sent(client, you, to: me.id, ["options": "%E4%ZZ"])
            #expect(plain["options"] == .null && plain["data"] == "hello")
            let absent = try await Self.sent(client, you, to: me.id, ["options": "not json"])
            #expect(absent["options"] == .null)
        }
    }

    @Test("parameters are checked with texts naming the field")
    func validation() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            let path = "/api/chat/socket/sendmessage"
            let cases: [(JSONObject, String)] = [
                (["chatType": "single", "type": "text", "data": "x"], "参数sendto_id不能为空"),
                (["sendto_id": "abc", "chatType": "single", "type": "text", "data": "x"], "参数sendto_id必须是整数"),
                (["sendto_id": 0, "chatType": "single", "type": "text", "data": "x"], "参数sendto_id应在1-2147483647之间"),
                (["sendto_id": 5, "chatType": "room", "type": "text", "data": "x"], "参数chatType的值只能是single、group"),
                (["sendto_id": 5, "chatType": "single", "data": "x"], "参数type不能为空"),
                (["sendto_id": 5, "chatType": "single", "type": "text"], "参数data不能为空"),
                (["sendto_id": 5, "chatType": "single", "type": "text", "data": ""], "参数data不能为空"),
                (["sendto_id": 5, "chatType": "single", "type": "text", "data": 12], "参数data必须是字符串或对象"),
                (["sendto_id": .integer(Int64(me.id)), "chatType": "single", "type": "text", "data": "x"], "不能给自己发消息"),
                // a group id no test creates (GroupTests make groups in the same Redis)
                (["sendto_id": 2_000_000_000, "chatType": "group", "type": "text", "data": "x"], "群不存在或者已解散或者被封禁，无法发消息"),
            ]
            for (body, text) in cases {
                let response = try await AccountTests.call(client, path, .object(body), token: me.token)
                #expect(response.status == .badRequest && response.body == Self.fail(text), "\(body) \(response.body)")
            }
            // numeric strings count as numbers; a form body works as well
            let you = try await UserTests.register(client)
            let form = try await client.execute(
                uri: path, method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded", RequestParameters.tokenHeader: me.token],
                body: ByteBuffer(string: "sendto_id=\(you.id)&chatType=single&type=text&data=%E4%BD%A0%E5%A5%BD")
            ) { try JSONParser.parse(String(buffer: $0.body)) }
            #expect(form.objectValue?["data"]?.objectValue?["data"] == "你好")
            #expect(try await Self.history(redis, owner: me.id, peer: 999_999_999).isEmpty)
        }
    }

    @Test("recipient missing or disabled; blacklist and system block, with the visitor wording")
    func refusals() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let (me, you, guest) = try await (UserTests.register(client), UserTests.register(client), Self.visitor(client))
            #expect(try await Self.send(client, me, to: 2_000_000_000).body == Self.fail("对方不存在或者被禁用，不能发消息"))
            _ = try await redis.send("HSET", testKeys.user(you.id), "status", "0")
            #expect(try await Self.send(client, me, to: you.id).body == Self.fail("对方不存在或者被禁用，不能发消息"))
            _ = try await redis.send("HSET", testKeys.user(you.id), "status", "1")

            try await Self.befriend(redis, owner: you.id, friend: me.id, isblack: 1)
            try await Self.befriend(redis, owner: you.id, friend: guest.id, isblack: 1)
            #expect(try await Self.send(client, me, to: you.id).body == Self.fail("对方把你拉黑了，不能发送消息"))
            #expect(try await Self.send(client, guest, to: you.id).body == Self.fail("对方把你拉黑了，不能发消息"))
            try await Self.befriend(redis, owner: you.id, friend: me.id, status: 0)
            try await Self.befriend(redis, owner: you.id, friend: guest.id, status: 0)
            #expect(try await Self.send(client, me, to: you.id).body == Self.fail("系统把你们拉黑了，不能发送消息"))
            #expect(try await Self.send(client, guest, to: you.id).body == Self.fail("系统把你们拉黑了，不能发消息"))

            // nothing of the refused sends was written anywhere
            #expect(try await Self.history(redis, owner: me.id, peer: you.id).isEmpty)
            #expect(try await redis.send("LLEN", testKeys.offlineQueue(you.id)).integer == 0)
            #expect(try await redis.send("HLEN", testKeys.quota(me.id)).integer == 0)

            // a friend (their row for me, active) may always write, whatever their chatset
            try await Self.befriend(redis, owner: you.id, friend: me.id, remark: "老同学")
            try await Self.chatset(redis, you.id, user: 0, visitor: 0)
            for _ in 0..<3 { _ = try await Self.sent(client, me, to: you.id) }
        }
    }

    @Test("chatset: sendCount 0 (user and visitor wording), 1 (one message, counted per pair), 2 (unlimited)")
    func chatset() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let (me, you, guest) = try await (UserTests.register(client), UserTests.register(client), Self.visitor(client))
            try await Self.chatset(redis, you.id, user: 0, visitor: 0)
            #expect(try await Self.send(client, me, to: you.id).body == Self.fail("对方设置成：需要您先成为他的好友才能发消息"))
            #expect(try await Self.send(client, guest, to: you.id).body == Self.fail("你们不是好友关系，对方设置成：先登录才能发消息"))

            // no userset at all: one message each, then the quota text
            _ = try await redis.send("HDEL", testKeys.user(you.id), "userset")
            _ = try await Self.sent(client, me, to: you.id)
            #expect(try await Self.send(client, me, to: you.id).body == Self.fail("在成为好友之前，对方只允许向他发一条消息"))
            _ = try await Self.sent(client, guest, to: you.id)
            #expect(try await Self.send(client, guest, to: you.id).body == Self.fail("在成为好友之前，对方只允许向他发一条消息"))
            #expect(try await redis.send("HGET", testKeys.quota(me.id), String(you.id)).integer == 1)
            // their messages to me do not count against me, and mine to them not against them
            _ = try await Self.sent(client, you, to: me.id)
            #expect(try await Self.send(client, you, to: me.id).body == Self.fail("在成为好友之前，对方只允许向他发一条消息"))

            // a userset without chatset, or unreadable, is the default too; 2 is unlimited
            let third = try await UserTests.register(client)
            _ = try await redis.send("HSET", testKeys.user(third.id), "userset", #"{"other":1}"#)
            _ = try await Self.sent(client, me, to: third.id)
            #expect(try await Self.send(client, me, to: third.id).body == Self.fail("在成为好友之前，对方只允许向他发一条消息"))
            try await Self.chatset(redis, third.id, user: 2, visitor: 0)
            for _ in 0..<3 { _ = try await Self.sent(client, me, to: third.id) }
            #expect(try await Self.send(client, guest, to: third.id).body == Self.fail("你们不是好友关系，对方设置成：先登录才能发消息"))
        }
    }

    @Test("50 concurrent first messages under sendCount 1: exactly one is accepted")
    func quotaRace() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let (me, you) = try await (UserTests.register(client), UserTests.register(client))
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<50 {
                    group.addTask { try await Self.send(client, me, to: you.id, ["data": .string("m\(index)")]).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)
            #expect(statuses.filter { $0 == .badRequest }.count == 49)
            #expect(try await Self.history(redis, owner: you.id, peer: me.id).count == 1)
            #expect(try await redis.send("LLEN", testKeys.offlineQueue(you.id)).integer == 1)
        }
    }

    @Test("names come from remarks: the recipient's for me, mine for the recipient")
    func remarkNames() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let (me, you) = try await (UserTests.register(client), UserTests.register(client))
            _ = try await redis.send("HSET", testKeys.user(me.id), "nickname", "小明")
            let plain = try await Self.sent(client, me, to: you.id)
            #expect(plain["from_name"] == "小明" && plain["to_name"] == .string(you.username))
            try await Self.befriend(redis, owner: you.id, friend: me.id, remark: "明哥")
            try await Self.befriend(redis, owner: me.id, friend: you.id, remark: "红\"姐\"\n")
            let named = try await Self.sent(client, me, to: you.id)
            #expect(named["from_name"] == "明哥" && named["to_name"] == "红\"姐\"\n")
        }
    }

    @Test("history lists keep the newest --history-cap messages")
    func historyCap() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        var settings = TestBridge.settings()
        settings.messages.historyCap = 3
        try await TestBridge.app(redis: redis, settings: settings).test(.router) { client in
            let (me, you) = try await (UserTests.register(client), UserTests.register(client))
            try await Self.chatset(redis, you.id, user: 2, visitor: 2)
            for index in 0..<5 { _ = try await Self.sent(client, me, to: you.id, ["data": .string("m\(index)")]) }
            for (owner, peer) in [(me.id, you.id), (you.id, me.id)] {
                #expect(try await Self.history(redis, owner: owner, peer: peer).map { $0["data"] } == ["m2", "m3", "m4"])
            }
            #expect(try await redis.send("LLEN", testKeys.offlineQueue(you.id)).integer == 5)
        }
    }

    @Test("the stream entry of a message has exactly docs/architecture.md's fields")
    func streamEntry() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let (me, you) = try await (UserTests.register(client), UserTests.register(client))
            let before = try await ShardedStream.messages.mark(redis)
            let message = try await Self.sent(client, me, to: you.id, ["data": ["data": "hi", "dataType": false, "otherData": nil]])
            let fields = try await Self.streamEntries(redis, after: before, id: try #require(message["id"]?.stringValue))
            #expect(fields.count == 1)
            let entry = try #require(fields.first)
            #expect(entry.map(\.0) == [
                "v", "kind", "id", "chat_type", "type", "from_id", "to_id", "from_name", "from_avatar", "to_name", "to_avatar",
                "data", "options", "create_time", "isremove",
            ])
            let values = Dictionary(entry, uniquingKeysWith: { first, _ in first })
            #expect(values["v"] == "1" && values["kind"] == "message" && values["chat_type"] == "single" && values["type"] == "text")
            #expect(values["from_id"] == String(me.id) && values["to_id"] == String(you.id))
            #expect(values["from_name"] == me.username && values["to_name"] == you.username)
            #expect(values["data"] == #"{"data":"hi","dataType":false,"otherData":null}"# && values["options"] == "null")
            #expect(values["create_time"] == message["create_time"]?.integerValue.map { String($0) } && values["isremove"] == "0")
        }
    }

    /// The field/value pairs of the stream entries after `after` whose `id` is `id` (every
    /// shard of the run's layout).
    static func streamEntries(_ redis: RedisClient, after: ShardedStream.Mark, id: String) async throws -> [[(String, String)]] {
        try await ShardedStream.messages.entries(redis, after: after).map(\.pairs).filter { pairs in
            pairs.contains { $0.0 == "id" && $0.1 == id }
        }
    }

    /// The same after one stream id, on the plain stream (the group suites' form).
    static func streamEntries(_ redis: RedisClient, after: String, id: String) async throws -> [[(String, String)]] {
        let entries = try await redis.send("XRANGE", StreamName.messages, "(" + after, "+").array ?? []
        return entries.compactMap { entry in
            guard let flat = entry.array?.last?.array?.compactMap(\.string) else { return nil }
            let pairs = stride(from: 0, to: flat.count - 1, by: 2).map { (flat[$0], flat[$0 + 1]) }
            return pairs.contains { $0.0 == "id" && $0.1 == id } ? pairs : nil
        }
    }

    @Test("a client id with braces (a{b}c) dedups like any other, to a recipient of my partition and of another, on every layout")
    func clientIDWithBraces() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let dependencies = await TestBridge.dependencies(redis: redis)
        try await Application(router: BridgeApplication.router(dependencies)).test(.router) { client in
            let me = try await UserTests.register(client)
            let layout = testKeys.layout
            // A recipient in my partition and one in another (plain: one partition, two recipients).
            var mine: Account?, other: Account?
            for _ in 0..<40 where mine == nil || other == nil {
                let account = try await UserTests.register(client)
                let same = layout.partition(ofUser: account.id) == layout.partition(ofUser: me.id)
                if same && mine == nil {
                    mine = account
                } else if (!same || layout.partitions == 1) && other == nil {
                    other = account
                }
            }
            for (recipient, clientID) in [(try #require(mine), "x{y}z"), (try #require(other), "a{b}c")] {
                try await Self.befriend(redis, owner: recipient.id, friend: me.id)
                func send(_ text: String, clientID: String) async throws -> JSONObject {
                    let request = try SendRequest(RequestParameters(body: [
                        "sendto_id": .integer(Int64(recipient.id)), "chatType": "single", "type": "text", "data": .string(text),
                    ]))
                    let bytes = try await dependencies.sender.send(request, from: .init(user: me.id, uncheckedToken: me.token), clientID: clientID)
                    return try #require(try JSONParser.parse(bytes).objectValue)
                }
                let first = try await send("first", clientID: clientID)
                #expect(first["data"] == "first")
                #expect(try await send("again", clientID: clientID) == first)
                // the id that reads like the escaped one is another client id
                let lookalike = try await send("lookalike", clientID: clientID.replacingOccurrences(of: "{", with: "%7B").replacingOccurrences(of: "}", with: "%7D"))
                #expect(lookalike["id"] != first["id"] && lookalike["data"] == "lookalike")
                #expect(try await Self.history(redis, owner: recipient.id, peer: me.id).map { $0["data"] } == ["first", "lookalike"])
                #expect(try await Self.history(redis, owner: me.id, peer: recipient.id).map { $0["data"] } == ["first", "lookalike"])
                let key = testKeys.sentByClientID(me.id, clientID)
                #expect(try await redis.send("GET", key).string == first["id"]?.stringValue)
                if layout.isTagged {
                    // hashed on my partition's tag, not on the id's braces
                    #expect(key.hasSuffix(layout.suffix(ofUser: me.id)) && key.filter { $0 == "{" }.count == 1, "\(key)")
                } else {
                    #expect(key == RedisKeys.sentByClientID(me.id, clientID))
                }
            }
        }
    }

    // MARK: Revoke

    static func revoke(
        _ client: some TestClientProtocol, _ by: Account, _ message: JSONObject, to: Int, _ extra: JSONObject = [:]
    ) async throws -> (status: HTTPResponse.Status, body: JSONValue) {
        var body: JSONObject = [
            "to_id": .integer(Int64(to)), "to_name": "对方", "to_avatar": .string(BridgeSettings.defaultUserAvatar),
            "id": message["id"] ?? "", "chatType": "single", "create_time": message["create_time"] ?? 0, "ignored": "x",
        ]
        for (key, value) in extra.members { body[key] = value }
        return try await AccountTests.call(client, "/api/chat/revokeMessage", .object(body), token: by.token)
    }

    @Test("revoke: only the sender, within 5 minutes of the stored time; copies marked, a stream entry, the notice")
    func revoke() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let (me, you) = try await (UserTests.register(client), UserTests.register(client))
            try await Self.befriend(redis, owner: you.id, friend: me.id)
            _ = try await redis.send("HSET", testKeys.user(me.id), "nickname", "小明")
            let first = try await Self.sent(client, me, to: you.id, ["data": "one"])
            let second = try await Self.sent(client, me, to: you.id, ["data": "two"])
            let before = try await ShardedStream.messages.mark(redis)

            // not the sender: the recipient, with the right peer id, cannot revoke it
            #expect(try await Self.revoke(client, you, first, to: me.id).body == Self.fail("消息不存在或无权撤回"))
            #expect(try await Self.revoke(client, me, first, to: you.id + 1).body == Self.fail("消息不存在或无权撤回"))
            #expect(try await Self.revoke(client, me, first, to: you.id, ["id": "not-a-message-id"]).body == Self.fail("消息不存在或无权撤回"))

            // issue 18: the client's to_name / to_avatar (对方, a forged avatar) are accepted and ignored
            let forged = "https://evil.example/forged.png"
            let response = try await Self.revoke(client, me, first, to: you.id, ["to_avatar": .string(forged)])
            #expect(response.status == .ok)
            let notice = try #require(response.body.objectValue?["data"]?.objectValue)
            #expect(notice["id"] == first["id"] && notice["type"] == "systemNotice" && notice["actionType"] == "revoke")
            #expect(notice["data"] == SystemNotice.data("小明撤回了一条消息") && notice["group"] == .null)
            #expect(notice["from_id"] == .integer(Int64(me.id)) && notice["to_id"] == .integer(Int64(you.id)))
            #expect(notice["to_name"] == .string(you.username) && notice["to_avatar"] == .string(BridgeSettings.defaultUserAvatar))
            #expect(notice["to_name"] == first["to_name"] && notice["to_avatar"] == first["to_avatar"] && notice["chatType"] == "single")

            for (owner, peer) in [(me.id, you.id), (you.id, me.id)] {
                let history = try await Self.history(redis, owner: owner, peer: peer)
                #expect(history.map { $0["isremove"] } == [1, 0])
                var unmarked = history[0]
                unmarked["isremove"] = 0
                #expect(unmarked == first && history[1] == second)
            }
            let entries = try await Self.streamEntries(redis, after: before, id: try #require(first["id"]?.stringValue))
            let entry = Dictionary(try #require(entries.first), uniquingKeysWith: { first, _ in first })
            #expect(entries.count == 1 && entry["kind"] == "revoke" && entry["isremove"] == "1" && entry["from_id"] == String(me.id))
            #expect(entry["to_name"] == you.username && entry["to_avatar"] == BridgeSettings.defaultUserAvatar)
            // the peer gets the notice after the message itself
            let queue = (try await redis.send("LRANGE", testKeys.offlineQueue(you.id), 0, -1).array ?? []).compactMap(\.bytes)
            #expect(queue.count == 3)
            let delivered = try #require(try JSONParser.parse(queue[2]).objectValue)
            #expect(delivered == notice && delivered["actionType"] == "revoke")

            // a second revoke answers the notice again and writes nothing more
            #expect(try await Self.revoke(client, me, first, to: you.id).status == .ok)
            #expect(try await redis.send("LLEN", testKeys.offlineQueue(you.id)).integer == 3)
            #expect(try await Self.streamEntries(redis, after: before, id: try #require(first["id"]?.stringValue)).count == 1)

            // the stored time decides: a copy stored 6 minutes ago cannot be revoked,
            // whatever time the client claims
            var old = second
            old["create_time"] = .integer((second["create_time"]?.integerValue ?? 0) - 6 * 60 * 1000)
            _ = try await redis.send("LSET", testKeys.singleHistory(owner: me.id, peer: you.id), -1, JSONSerializer.string(.object(old)))
            #expect(try await Self.revoke(client, me, second, to: you.id).body == Self.fail("消息超过5分钟，不能撤回"))
            // an unknown message whose claimed time is past the window: the old server's text
            let claimedOld = ["id": JSONValue.string(UUID().uuidString.lowercased()), "create_time": .integer(Int64(Date().timeIntervalSince1970 * 1000) - 6 * 60 * 1000)]
            #expect(try await Self.revoke(client, me, first, to: you.id, JSONObject(claimedOld.map { ($0.key, $0.value) })).body == Self.fail("消息超过5分钟，不能撤回"))
        }
    }

    @Test("revoke parameters are checked")
    func revokeValidation() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            let message: JSONObject = ["id": "x", "create_time": .integer(Int64(Date().timeIntervalSince1970 * 1000))]
            #expect(try await Self.revoke(client, me, message, to: 5, ["to_name": ""]).body == Self.fail("参数to_name不能为空"))
            #expect(try await Self.revoke(client, me, message, to: 5, ["to_avatar": "short"]).body == Self.fail("参数to_avatar长度应在10-1000之间"))
            #expect(try await Self.revoke(client, me, message, to: 5, ["chatType": "x"]).body == Self.fail("参数chatType的值只能是single、group"))
            #expect(try await Self.revoke(client, me, message, to: 5, ["create_time": 5]).status == .badRequest)
            #expect(try await Self.revoke(client, me, message, to: 2_000_000_000, ["chatType": "group"]).body == Self.fail("群不存在"))
        }
    }
}
