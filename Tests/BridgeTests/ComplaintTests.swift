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

/// docs/api.md *Complaints and Q&A*, the five complaint endpoints over the real test Redis:
/// their answers (the text in `msg`, HTTP 400 + `data: {}` on every failure), the rows and
/// indexes the script leaves, the `complaint` entity events field by field, other users'
/// and deleted rows, rows an operator started handling, and races.
@Suite("Complaints", .offCooperativePool)
struct ComplaintTests {
    typealias Account = UserTests.Account
    typealias Answer = (status: HTTPResponse.Status, body: JSONValue)

    // MARK: Helpers

    static func call(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, _ body: JSONValue = [:], _ account: Account
    ) async throws -> Answer {
        try await client.execute(
            uri: path, method: method,
            headers: [.contentType: "application/json", RequestParameters.tokenHeader: account.token],
            body: method == .get ? ByteBuffer() : ByteBuffer(string: JSONSerializer.string(body))
        ) { ($0.status, try JSONParser.parse(String(buffer: $0.body))) }
    }

    static func success(_ text: String, _ data: JSONValue = [:]) -> Answer { (.ok, ["msg": .string(text), "data": data]) }
    static func failure(_ text: String) -> Answer { (.badRequest, ["msg": .string(text), "data": [:]]) }

    static func same(_ a: Answer, _ b: Answer) -> Bool { a.status == b.status && a.body == b.body }

    static func create(_ client: some TestClientProtocol, _ me: Account, _ body: JSONValue) async throws -> Int {
        let answer = try await call(client, .post, "/api/chat/complaint/create", body, me)
        #expect(answer.status == .ok && answer.body.objectValue?["msg"] == "投诉提交成功", "\(answer)")
        return Int(try #require(answer.body.objectValue?["data"]?.objectValue?["id"]?.integerValue))
    }

    /// Complaint `id` of `reporter`: in the reporter's partition.
    static func row(_ redis: RedisClient, _ id: Int, of reporter: Int) async throws -> [String: String] {
        try await redis.send("HGETALL", testKeys.complaint(id, reporter: reporter)).fieldValues
    }

    struct EntityEvent {
        let fields: [String]
        let op: String
        let id: Int64
        let version: Int64
        let row: JSONObject
    }

    /// The events of `entity` after `mark` whose rows belong to `owner`.
    static func events(_ redis: RedisClient, after mark: String, entity: String, owner: Int) async throws -> [EntityEvent] {
        let entries = try await FriendTests.entityEntries(redis, after: mark)
        return entries.compactMap { entry -> EntityEvent? in
            guard let flat = entry.array?.last?.array else { return nil }
            let names = stride(from: 0, to: flat.count, by: 2).compactMap { flat[$0].string }
            let map = entry.array?.last?.fieldValues ?? [:]
            guard map["entity"] == entity, let row = map["row"].flatMap({ try? JSONParser.parse($0).objectValue }),
                  row["user_id"]?.integerValue == Int64(owner)
            else { return nil }
            return EntityEvent(
                fields: names, op: map["op"] ?? "", id: Int64(map["id"] ?? "") ?? -1, version: Int64(map["version"] ?? "") ?? -1,
                row: row
            )
        }
    }

    // MARK: create

    @Test("create: missing and invalid parameters, unknown targets, myself; the row, my index and the event")
    func create() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            let them = try await UserTests.register(client)
            let create = { (body: JSONValue) in try await Self.call(client, .post, "/api/chat/complaint/create", body, me) }
            let full: JSONObject = ["target_id": .integer(Int64(them.id)), "target_type": "single", "reason": "骚扰"]
            for missing in ["target_id", "target_type", "reason"] {
                var body = full
                body[missing] = nil
                #expect(Self.same(try await create(.object(body)), Self.failure("缺少必要参数")))
                body[missing] = ""
                #expect(Self.same(try await create(.object(body)), Self.failure("缺少必要参数")))
            }
            var body = full
            body["target_type"] = "user"
            #expect(Self.same(try await create(.object(body)), Self.failure("参数target_type的值只能是group、single")))
            body = full
            body["target_id"] = "abc"
            #expect(Self.same(try await create(.object(body)), Self.failure("参数target_id必须是整数")))
            body = full
            body["reason"] = .string(String(repeating: "长", count: 501))
            #expect(Self.same(try await create(.object(body)), Self.failure("参数reason长度应在1-500之间")))
            body = full
            body["target_id"] = 999_999_999
            #expect(Self.same(try await create(.object(body)), Self.failure("投诉对象不存在")))
            body["target_type"] = "group"
            #expect(Self.same(try await create(.object(body)), Self.failure("投诉对象不存在")))
            body = full
            body["target_id"] = .integer(Int64(me.id))
            #expect(Self.same(try await create(.object(body)), Self.failure("不能投诉自己")))
            #expect(try await redis.send("ZCARD", testKeys.complaintsOfUser(me.id)).integer == 0)

            let mark = try await FriendTests.streamMark(redis)
            body = full
            body["target_id"] = .string(String(them.id))
            body["target_name"] = "小红"
            body["content"] = "他一直发广告"
            body["images"] = ["https://a.example/1.png", "https://a.example/2.png"]
            body["complaint_chatinfo"] = ["id": "m1", "data": "广告"]
            let id = try await Self.create(client, me, .object(body))

            let row = try await Self.row(redis, id, of: me.id)
            #expect(row["id"] == String(id) && row["user_id"] == String(me.id) && row["target_id"] == String(them.id))
            #expect(row["target_type"] == "single" && row["target_name"] == "小红" && row["reason"] == "骚扰")
            #expect(row["content"] == "他一直发广告" && row["images"] == #"["https://a.example/1.png","https://a.example/2.png"]"#)
            #expect(row["complaint_chatinfo"] == #"{"id":"m1","data":"广告"}"#)
            #expect(row["status"] == "0" && row["is_deleted"] == "0" && row["admin_reply"] == nil && row["_v"] == "1")
            #expect(row["create_time"]?.count == 19 && row["update_time"] == row["create_time"])
            #expect(try await FriendTests.zset(redis, testKeys.complaintsOfUser(me.id)) == [id])

            let events = try await Self.events(redis, after: mark, entity: "complaint", owner: me.id)
            #expect(events.count == 1)
            let event = try #require(events.first)
            #expect(event.fields == ["v", "entity", "op", "id", "version", "row"])
            #expect(event.op == "upsert" && event.id == Int64(id) && event.version == 1)
            #expect(event.row.keys == ComplaintRow.columns)
            let expected: JSONObject = [
                "id": .integer(Int64(id)), "user_id": .integer(Int64(me.id)), "target_id": .integer(Int64(them.id)),
                "target_type": "single", "target_name": "小红", "reason": "骚扰", "content": "他一直发广告",
                "images": #"["https://a.example/1.png","https://a.example/2.png"]"#,
                "complaint_chatinfo": #"{"id":"m1","data":"广告"}"#, "status": 0, "admin_reply": nil,
                "create_time": .string(row["create_time"] ?? ""), "update_time": .string(row["create_time"] ?? ""), "is_deleted": 0,
            ]
            #expect(event.row == expected)

            // a group that exists can be complained about; optional columns stay NULL
            _ = try await redis.send("HSET", testKeys.group(900_000_000 + me.id), "id", String(900_000_000 + me.id), "status", "1")
            let group = try await Self.create(
                client, me, ["target_id": .integer(Int64(900_000_000 + me.id)), "target_type": "group", "reason": "违规"]
            )
            let groupRow = try await Self.row(redis, group, of: me.id)
            #expect(groupRow["target_type"] == "group" && groupRow["content"] == nil && groupRow["target_name"] == nil)
            #expect(group > id)
            _ = try await redis.send("DEL", testKeys.group(900_000_000 + me.id))
        }
    }

    // MARK: list and detail

    @Test("list: mine only, newest first, with me as user; detail: the same item, others' and deleted ones 投诉记录不存在")
    func listAndDetail() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            let other = try await UserTests.register(client)
            try await FriendTests.setNickname(redis, me, "投诉人")
            #expect(Self.same(try await Self.call(client, .get, "/api/chat/complaint/list", [:], me), Self.success("获取成功", [])))

            let first = try await Self.create(client, me, ["target_id": .integer(Int64(other.id)), "target_type": "single", "reason": "一"])
            let second = try await Self.create(client, me, ["target_id": .integer(Int64(other.id)), "target_type": "single", "reason": "二"])
            let theirs = try await Self.create(client, other, ["target_id": .integer(Int64(me.id)), "target_type": "single", "reason": "三"])

            let list = try await Self.call(client, .get, "/api/chat/complaint/list", [:], me)
            #expect(list.status == .ok && list.body.objectValue?["msg"] == "获取成功")
            let items = try #require(list.body.objectValue?["data"]?.arrayValue)
            #expect(items.map { $0.objectValue?["id"]?.integerValue } == [Int64(second), Int64(first)])
            let item = try #require(items.first?.objectValue)
            #expect(item.keys == ComplaintRow.columns + ["user"])
            #expect(item["reason"] == "二" && item["status"] == 0 && item["is_deleted"] == 0 && item["content"] == .null)
            let user: JSONValue = [
                "id": .integer(Int64(me.id)), "uuid": .string(me.uuid), "username": .string(me.username), "nickname": "投诉人",
                "avatar": .string(BridgeSettings.defaultUserAvatar),
            ]
            #expect(item["user"] == user)

            let detail = try await Self.call(client, .get, "/api/chat/complaint/detail/\(second)", [:], me)
            #expect(Self.same(detail, Self.success("获取成功", .object(item))))
            #expect(Self.same(try await Self.call(client, .get, "/api/chat/complaint/detail/\(theirs)", [:], me), Self.failure("投诉记录不存在")))
            #expect(Self.same(try await Self.call(client, .get, "/api/chat/complaint/detail/999999999", [:], me), Self.failure("投诉记录不存在")))
            #expect(Self.same(try await Self.call(client, .get, "/api/chat/complaint/detail/abc", [:], me), Self.failure("参数id必须是整数")))

            #expect(Self.same(try await Self.call(client, .post, "/api/chat/complaint/delete/\(first)", [:], me), Self.success("删除成功")))
            #expect(Self.same(try await Self.call(client, .get, "/api/chat/complaint/detail/\(first)", [:], me), Self.failure("投诉记录不存在")))
            let after = try await Self.call(client, .get, "/api/chat/complaint/list", [:], me)
            #expect(after.body.objectValue?["data"]?.arrayValue?.map { $0.objectValue?["id"]?.integerValue } == [Int64(second)])

            // the token checks come first and answer as every /api/chat route
            let noToken = try await client.execute(uri: "/api/chat/complaint/list", method: .get) {
                ($0.status, try JSONParser.parse(String(buffer: $0.body)))
            }
            #expect(noToken.0 == .badRequest && noToken.1 == AccountTests.fail("您没有权限访问即时通讯接口"))
        }
    }

    // MARK: update and delete

    @Test("update: content and images of my pending row, with the event; others', deleted and handled rows refused")
    func update() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            let other = try await UserTests.register(client)
            let id = try await Self.create(
                client, me, ["target_id": .integer(Int64(other.id)), "target_type": "single", "reason": "骚扰", "content": "旧"]
            )
            let update = { (id: Int, body: JSONValue, account: Account) in
                try await Self.call(client, .post, "/api/chat/complaint/update/\(id)", body, account)
            }
            #expect(Self.same(try await update(id, [:], me), Self.failure("缺少必要参数")))
            #expect(Self.same(try await update(id, ["content": "x"], other), Self.failure("投诉记录不存在")))
            #expect(Self.same(try await update(999_999_999, ["content": "x"], me), Self.failure("投诉记录不存在")))

            let mark = try await FriendTests.streamMark(redis)
            #expect(Self.same(try await update(id, ["content": "新的内容"], me), Self.success("更新成功")))
            #expect(Self.same(try await update(id, ["images": ["https://a.example/3.png"]], me), Self.success("更新成功")))
            let row = try await Self.row(redis, id, of: me.id)
            #expect(row["content"] == "新的内容" && row["images"] == #"["https://a.example/3.png"]"# && row["reason"] == "骚扰")
            #expect(row["_v"] == "3" && row["status"] == "0")
            let events = try await Self.events(redis, after: mark, entity: "complaint", owner: me.id)
            #expect(events.map { "\($0.op) \($0.id) v\($0.version)" } == ["upsert \(id) v2", "upsert \(id) v3"])
            #expect(events.last?.row["content"] == "新的内容" && events.last?.row["images"] == #"["https://a.example/3.png"]"#)
            #expect(events.last?.row.keys == ComplaintRow.columns)

            // an operator started handling it
            _ = try await redis.send("HSET", testKeys.complaint(id, reporter: me.id), "status", "1")
            #expect(Self.same(try await update(id, ["content": "再改"], me), Self.failure("该投诉已开始处理，无法修改")))
            #expect(try await Self.row(redis, id, of: me.id)["content"] == "新的内容")
            // a deleted one: not found
            _ = try await redis.send("HSET", testKeys.complaint(id, reporter: me.id), "status", "0")
            #expect(Self.same(try await Self.call(client, .post, "/api/chat/complaint/delete/\(id)", [:], me), Self.success("删除成功")))
            #expect(Self.same(try await update(id, ["content": "再改"], me), Self.failure("投诉记录不存在")))
        }
    }

    @Test("delete: soft, with the event (upsert, is_deleted 1); others' and missing refused; ten at once: one wins")
    func delete() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            let other = try await UserTests.register(client)
            let id = try await Self.create(client, me, ["target_id": .integer(Int64(other.id)), "target_type": "single", "reason": "骚扰"])
            let delete = { (id: Int, account: Account) in
                try await Self.call(client, .post, "/api/chat/complaint/delete/\(id)", [:], account)
            }
            #expect(Self.same(try await delete(id, other), Self.failure("投诉记录不存在")))
            #expect(Self.same(try await delete(999_999_999, me), Self.failure("投诉记录不存在")))

            let mark = try await FriendTests.streamMark(redis)
            let answers = try await withThrowingTaskGroup(of: Answer.self) { group in
                for _ in 0..<10 { group.addTask { try await Self.call(client, .post, "/api/chat/complaint/delete/\(id)", [:], me) } }
                return try await group.reduce(into: [Answer]()) { $0.append($1) }
            }
            #expect(answers.filter { Self.same($0, Self.success("删除成功")) }.count == 1)
            #expect(answers.filter { Self.same($0, Self.failure("投诉记录不存在")) }.count == 9)

            let row = try await Self.row(redis, id, of: me.id)
            #expect(row["is_deleted"] == "1" && row["_v"] == "2" && row["reason"] == "骚扰")
            #expect(try await FriendTests.zset(redis, testKeys.complaintsOfUser(me.id)).isEmpty)
            let events = try await Self.events(redis, after: mark, entity: "complaint", owner: me.id)
            #expect(events.map { "\($0.op) \($0.id) v\($0.version)" } == ["upsert \(id) v2"])
            #expect(events.first?.row["is_deleted"] == 1 && events.first?.row["reason"] == "骚扰")
        }
    }

    @Test("twenty concurrent creates: twenty rows with distinct ids, all listed, one event each")
    func concurrentCreates() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            let other = try await UserTests.register(client)
            let mark = try await FriendTests.streamMark(redis)
            let ids = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        try await Self.create(
                            client, me, ["target_id": .integer(Int64(other.id)), "target_type": "single", "reason": .string("r\(index)")]
                        )
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(Set(ids).count == 20)
            let list = try await Self.call(client, .get, "/api/chat/complaint/list", [:], me)
            #expect(list.body.objectValue?["data"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.integerValue } == ids.sorted(by: >).map(Int64.init))
            #expect(try await Self.events(redis, after: mark, entity: "complaint", owner: me.id).count == 20)
        }
    }
}
