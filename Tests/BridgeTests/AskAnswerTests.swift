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

/// docs/api.md *Complaints and Q&A*, the six `askanswer` endpoints over the real test Redis:
/// HTTP 200 always with `{code, msg, data?}`, the rows the script leaves, the `askanswer`
/// entity events field by field, owner checks, the per-user cap under a race, and search.
@Suite("Q&A endpoints", .offCooperativePool)
struct AskAnswerTests {
    typealias Account = UserTests.Account

    static func call(_ client: some TestClientProtocol, _ action: String, _ body: JSONValue = [:], _ account: Account) async throws -> JSONValue {
        let answer = try await AccountTests.call(client, "/api/chat/askanswer/\(action)", body, token: account.token)
        #expect(answer.status == .ok, "\(action): \(answer)")
        return answer.body
    }

    static func answer(_ code: Int64, _ text: String, _ data: JSONValue? = nil) -> JSONValue {
        var object: JSONObject = ["code": .integer(code), "msg": .string(text)]
        if let data { object["data"] = data }
        return .object(object)
    }

    static func create(_ client: some TestClientProtocol, _ me: Account, _ ask: String, _ answer: String, type: String? = nil) async throws -> JSONObject {
        var body: JSONObject = ["ask": .string(ask), "answer": .string(answer)]
        if let type { body["type"] = .string(type) }
        let reply = try await call(client, "create", .object(body), me)
        #expect(reply.objectValue?["code"] == 200 && reply.objectValue?["msg"] == "创建成功", "\(reply)")
        return try #require(reply.objectValue?["data"]?.objectValue)
    }

    static func id(_ row: JSONObject) -> Int { Int(row["id"]?.integerValue ?? 0) }

    static func stored(_ redis: RedisClient, _ owner: Account, _ id: Int) async throws -> JSONObject? {
        guard let text = try await redis.send("HGET", testKeys.askAnswersOfUser(owner.id), String(id)).string else { return nil }
        return try JSONParser.parse(text).objectValue
    }

    @Test("create: 参数不完整 and parameter texts (code 400); the row, its owner key and the event")
    func create() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            #expect(try await Self.call(client, "create", [:], me) == Self.answer(400, "参数不完整"))
            #expect(try await Self.call(client, "create", ["ask": "运费多少"], me) == Self.answer(400, "参数不完整"))
            #expect(try await Self.call(client, "create", ["ask": "", "answer": "10元"], me) == Self.answer(400, "参数不完整"))
            #expect(
                try await Self.call(client, "create", ["ask": .string(String(repeating: "问", count: 1001)), "answer": "a"], me)
                    == Self.answer(400, "参数ask长度应在1-1000之间")
            )
            #expect(try await redis.send("HLEN", testKeys.askAnswersOfUser(me.id)).integer == 0)

            let mark = try await FriendTests.streamMark(redis)
            let row = try await Self.create(client, me, "运费多少", "全国包邮，偏远地区10元", type: "物流")
            let id = Self.id(row)
            #expect(row.keys == AskAnswerRow.columns)
            #expect(row["user_id"] == .integer(Int64(me.id)) && row["ask"] == "运费多少" && row["answer"] == "全国包邮，偏远地区10元")
            #expect(row["type"] == "物流" && row["create_time"]?.stringValue?.count == 19 && row["update_time"] == row["create_time"])
            var stored = try #require(try await Self.stored(redis, me, id))
            #expect(stored["_v"] == 1)
            stored["_v"] = nil
            #expect(stored == row)
            #expect(try await redis.send("GET", testKeys.askAnswerOwner(id, owner: me.id)).string == String(me.id))

            let events = try await ComplaintTests.events(redis, after: mark, entity: "askanswer", owner: me.id)
            #expect(events.count == 1)
            let event = try #require(events.first)
            #expect(event.fields == ["v", "entity", "op", "id", "version", "row"])
            #expect(event.op == "upsert" && event.id == Int64(id) && event.version == 1 && event.row == row)

            // type defaults to '' (the column's default)
            let plain = try await Self.create(client, me, "包邮吗", "包邮")
            #expect(plain["type"] == "" && Self.id(plain) > id)
        }
    }

    @Test("update and delete: only the owner's row (问答不存在, code 404); versions and events; type can be emptied")
    func updateAndDelete() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            let other = try await UserTests.register(client)
            let row = try await Self.create(client, me, "运费多少", "10元", type: "物流")
            let id = Self.id(row)
            #expect(try await Self.call(client, "update", ["answer": "x"], me) == Self.answer(400, "参数不完整"))
            #expect(try await Self.call(client, "update", ["id": .integer(Int64(id))], me) == Self.answer(400, "参数不完整"))
            #expect(try await Self.call(client, "update", ["id": "abc", "answer": "x"], me) == Self.answer(400, "参数id必须是整数"))
            #expect(try await Self.call(client, "update", ["id": .integer(Int64(id)), "answer": "x"], other) == Self.answer(404, "问答不存在"))
            #expect(try await Self.call(client, "update", ["id": 999_999_999, "answer": "x"], me) == Self.answer(404, "问答不存在"))
            #expect(try await Self.call(client, "delete", ["id": .integer(Int64(id))], other) == Self.answer(404, "问答不存在"))
            #expect(try await Self.call(client, "delete", [:], me) == Self.answer(400, "参数不完整"))

            let mark = try await FriendTests.streamMark(redis)
            let updated = try await Self.call(client, "update", ["id": .string(String(id)), "answer": "全国包邮", "type": ""], me)
            var expected = row
            expected["answer"] = "全国包邮"
            expected["type"] = ""
            expected["update_time"] = updated.objectValue?["data"]?.objectValue?["update_time"] ?? .null
            #expect(updated == Self.answer(200, "更新成功", .object(expected)))
            #expect(try await Self.stored(redis, me, id)?["_v"] == 2)

            #expect(try await Self.call(client, "delete", ["id": .integer(Int64(id))], me) == Self.answer(200, "删除成功"))
            #expect(try await Self.stored(redis, me, id) == nil)
            #expect(try await redis.send("EXISTS", testKeys.askAnswerOwner(id, owner: me.id)).integer == 0)
            #expect(try await Self.call(client, "delete", ["id": .integer(Int64(id))], me) == Self.answer(404, "问答不存在"))
            #expect(try await Self.call(client, "detail", ["id": .integer(Int64(id))], me) == Self.answer(404, "问答不存在"))

            let events = try await ComplaintTests.events(redis, after: mark, entity: "askanswer", owner: me.id)
            #expect(events.map { "\($0.op) \($0.id) v\($0.version)" } == ["upsert \(id) v2", "delete \(id) v3"])
            #expect(events.allSatisfy { $0.row == expected })
        }
    }

    @Test("list, detail, search: mine or create_userId's; 暂无问答数据 / 未找到相关问答 (code 404); search best first")
    func reading() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let owner = try await UserTests.register(client)
            let visitor = try await UserTests.register(client)
            #expect(try await Self.call(client, "list", [:], owner) == Self.answer(404, "暂无问答数据"))
            let a = try await Self.create(client, owner, "运费多少", "全国包邮", type: "物流")
            let b = try await Self.create(client, owner, "怎么申请退货", "订单页点申请退货", type: "售后")
            let c = try await Self.create(client, owner, "发货地址在哪", "杭州发货", type: "物流")

            #expect(try await Self.call(client, "list", [:], owner) == Self.answer(200, "获取成功", [.object(a), .object(b), .object(c)]))
            let theirs = try await Self.call(client, "list", ["create_userId": .string(String(owner.id))], visitor)
            #expect(theirs == Self.answer(200, "获取成功", [.object(a), .object(b), .object(c)]))
            #expect(try await Self.call(client, "list", ["type": "物流"], owner) == Self.answer(200, "获取成功", [.object(a), .object(c)]))
            #expect(try await Self.call(client, "list", [:], visitor) == Self.answer(404, "暂无问答数据"))

            #expect(try await Self.call(client, "detail", ["id": .integer(Int64(Self.id(b)))], visitor) == Self.answer(200, "获取成功", .object(b)))
            #expect(try await Self.call(client, "detail", [:], visitor) == Self.answer(400, "参数不完整"))
            #expect(try await Self.call(client, "detail", ["id": 999_999_999], visitor) == Self.answer(404, "问答不存在"))

            let search = { (body: JSONValue) in try await Self.call(client, "search", body, visitor) }
            let ownerID = JSONValue.integer(Int64(owner.id))
            func with(_ ask: String) -> JSONValue { ["ask": .string(ask), "create_userId": ownerID] }
            #expect(try await search(with("如何申请退货")) == Self.answer(200, "搜索成功", [.object(b)]))
            // contained in an ask first (best first), then found in an answer only
            #expect(try await search(with("发货")) == Self.answer(200, "搜索成功", [.object(c)]))
            #expect(try await search(with("包邮")) == Self.answer(200, "搜索成功", [.object(a)]))
            #expect(try await search(with("杭州")) == Self.answer(200, "搜索成功", [.object(c)]))
            #expect(try await search(with("地址")) == Self.answer(200, "搜索成功", [.object(c)]))
            #expect(try await search(with("优惠券")) == Self.answer(404, "未找到相关问答"))
            #expect(try await search(["create_userId": ownerID]) == Self.answer(400, "参数不完整"))
            #expect(try await Self.call(client, "search", ["ask": "运费"], visitor) == Self.answer(404, "未找到相关问答"))
        }
    }

    @Test("a send asks when options.askanswer is truthy as JavaScript reads it, for text messages with a text")
    func askedQuestion() throws {
        func asked(_ options: JSONValue?, type: String = "text", data: JSONValue = "运费多少") throws -> AskedQuestion? {
            var body: JSONObject = ["sendto_id": 2, "chatType": "single", "type": .string(type), "data": data]
            if let options { body["options"] = options }
            return try SendRequest(RequestParameters(body: body)).askedQuestion
        }
        let plain = AskedQuestion(type: "text", data: "运费多少", options: ["askanswer": true])
        #expect(plain?.text == "运费多少" && plain?.isWrapped == false)
        for truthy: JSONValue in [true, 1, -1, .double(0.5), "0", "false", [], [:], "%7B%7D"] {
            #expect(try asked(["askanswer": truthy]) == plain, "\(truthy)")
        }
        // the deployed client's form: URI-encoded JSON text
        #expect(try asked("%7B%22askanswer%22%3Atrue%7D") == plain)
        for falsy: JSONValue in [false, 0, .double(0), "", nil] {
            #expect(try asked(["askanswer": falsy]) == nil, "\(falsy)")
        }
        #expect(try asked(nil) == nil)
        #expect(try asked(["other": true]) == nil)
        #expect(try asked("not json") == nil)
        #expect(try asked(["askanswer": true], type: "image") == nil)
        #expect(try asked(["askanswer": true], data: ["data": "", "dataType": false]) == nil)
        #expect(try asked(["askanswer": true], data: ["dataType": false]) == nil)
        let wrapped = try #require(try asked(["askanswer": true], data: ["data": "运费多少", "dataType": false, "otherData": nil]))
        #expect(wrapped.text == "运费多少" && wrapped.isWrapped)
        #expect(wrapped.data(answering: "包邮") == ["data": "包邮", "dataType": false, "otherData": nil])
        #expect(plain?.data(answering: "包邮") == "包邮")
    }

    @Test("the replier answers once, then nothing to an asker who blacklisted the owner, nor from a disabled owner")
    func replierRefusals() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let dependencies = await TestBridge.dependencies(redis: redis)
        let replier = dependencies.autoReplies.replier
        try await Application(router: BridgeApplication.router(dependencies)).test(.router) { client in
            let owner = try await UserTests.register(client)
            let asker = try await UserTests.register(client)
            _ = try await Self.create(client, owner, "运费多少", "全国包邮")
            let question = try #require(AskedQuestion(type: "text", data: "运费多少？", options: ["askanswer": true]))
            let job = AutoReplyJob(question: question, asker: asker.id, owner: owner.id)
            let history = testKeys.singleHistory(owner: asker.id, peer: owner.id)
            func counts() async throws -> [Int64?] {
                [
                    try await redis.send("LLEN", history).integer, try await redis.send("LLEN", testKeys.offlineQueue(asker.id)).integer,
                    try await redis.send("LLEN", testKeys.offlineQueue(owner.id)).integer,
                ]
            }
            // answered: in the history, queued for the asker, the notice queued for the owner
            await replier.reply(to: job)
            #expect(try await counts() == [1, 1, 1])
            #expect(try await FriendTests.queued(redis, asker).first?["data"] == "全国包邮")

            try await FriendTests.befriend(client, redis, asker, owner)
            let before = try await counts()
            #expect(try await FriendTests.post(client, "/api/chat/setblackgoodfriend/\(owner.id)", [:], asker) == FriendTests.ok("ok"))
            await replier.reply(to: job)
            #expect(try await counts() == before)

            #expect(try await FriendTests.post(client, "/api/chat/setblackgoodfriend/\(owner.id)", [:], asker) == FriendTests.ok("ok"))
            _ = try await redis.send("HSET", testKeys.user(owner.id), "status", "0")
            await replier.reply(to: job)
            #expect(try await counts() == before)
            _ = try await redis.send("HSET", testKeys.user(owner.id), "status", "1")
            await replier.reply(to: job)
            #expect(try await counts()[0] == (before[0] ?? 0) + 1)
        }
    }

    @Test("search ranks ask matches by score before answer-only matches")
    func searchRanking() {
        func row(_ id: Int, _ ask: String, _ answer: String) -> AskAnswerRow {
            AskAnswerRow(Array(JSONSerializer.string(["id": .integer(Int64(id)), "user_id": 1, "ask": .string(ask), "answer": .string(answer), "type": ""]).utf8))!
        }
        let rows = [row(1, "退款多久到账", "三天内退货退款"), row(2, "退货", "七天无理由"), row(3, "怎么退货呢", "联系客服")]
        let hits = AskAnswerRoutes.search("退货", in: rows, matcher: QuestionMatcher())
        #expect(hits.map(\.id) == [2, 3, 1])
    }

    @Test("the per-user cap holds under a race: at 195 of 200, ten creates at once leave exactly 200")
    func cap() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            let filler = (1...(AskAnswerStore.perUserCap - 5)).map { index in
                RedisCommand("HSET", testKeys.askAnswersOfUser(me.id), String(4_000_000_000 + index), #"{"id":\#(4_000_000_000 + index),"user_id":\#(me.id),"ask":"q","answer":"a","type":"","create_time":"2026-01-01 00:00:00","update_time":"2026-01-01 00:00:00","_v":1}"#)
            }
            _ = try await redis.pipeline(filler)
            let replies = try await withThrowingTaskGroup(of: JSONValue.self) { group in
                for index in 0..<10 { group.addTask { try await Self.call(client, "create", ["ask": .string("问题\(index)"), "answer": "答"], me) } }
                return try await group.reduce(into: [JSONValue]()) { $0.append($1) }
            }
            #expect(replies.filter { $0.objectValue?["code"] == 200 }.count == 5)
            #expect(replies.filter { $0 == Self.answer(400, "问答数量已达上限") }.count == 5)
            #expect(try await redis.send("HLEN", testKeys.askAnswersOfUser(me.id)).integer == Int64(AskAnswerStore.perUserCap))
        }
    }

    @Test("visitors are refused by the token checks (the routes are not on the whitelist)")
    func visitors() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            let token = try await FriendTests.visitorToken(for: me, redis)
            let answer = try await AccountTests.call(client, "/api/chat/askanswer/list", [:], token: token)
            #expect(answer.status == .badRequest && answer.body == AccountTests.fail("您没有权限访问，请先注册或登录"))
        }
    }
}
