import Foundation
import Hummingbird
import HummingbirdTesting
import Model
import RedisClient
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// docs/api.md *Blocks* over the real test Redis: a block is a fact of its own that
/// survives deleting and re-adding the friendship, only the blocker lifts it, and every
/// path that lets a message or a request through refuses the blocked user.
@Suite("Blocks", .offCooperativePool)
struct BlockTests {
    typealias Account = UserTests.Account

    static let noMessage = "对方把你拉黑了，不能发送消息"
    static let noFriendship = "对方把你拉黑了，不能添加好友"
    static let noGroup = "对方把你拉黑了，不能邀请对方加入群聊"

    static func ok(_ data: JSONValue) -> JSONValue { FriendTests.ok(data) }
    static func fail(_ text: String) -> JSONValue { FriendTests.fail(text) }

    static func post(_ client: some TestClientProtocol, _ path: String, _ body: JSONValue, _ account: Account) async throws -> JSONValue {
        try await FriendTests.post(client, "/api/chat/" + path, body, account)
    }

    static func post(_ client: some TestClientProtocol, _ path: String, _ account: Account) async throws -> JSONValue {
        try await post(client, path, [:], account)
    }

    /// Whether `blocker` blocks `blocked` in Redis.
    static func blocks(_ redis: RedisClient, _ blocker: Account, _ blocked: Account) async throws -> Bool {
        try await redis.send("HEXISTS", testKeys.blocks(blocker.id), String(blocked.id)).integer == 1
    }

    static func send(_ client: some TestClientProtocol, _ from: Account, to: Account) async throws -> JSONValue {
        try await MessageTests.send(client, from, to: to.id).body
    }

    static func isAccepted(_ answer: JSONValue) -> Bool {
        answer.objectValue?["msg"] == "ok" && answer.objectValue?["data"]?.objectValue?["id"] != nil
    }

    /// The `block` events after `mark` between the two users.
    static func blockEvents(_ redis: RedisClient, after mark: String, _ a: Account, _ b: Account) async throws -> [[String: String]] {
        let ids: Set<Int64> = [Int64(a.id), Int64(b.id)]
        let entries = try await redis.send("XRANGE", StreamName.entities, "(" + mark, "+").array ?? []
        return entries.compactMap { entry -> [String: String]? in
            let fields = entry.array?.last?.fieldValues ?? [:]
            guard fields["entity"] == "block", let row = fields["row"].flatMap({ try? JSONParser.parse($0).objectValue }),
                  let blocker = row["user_id"]?.integerValue, let blocked = row["blocked_id"]?.integerValue,
                  ids.contains(blocker), ids.contains(blocked)
            else { return nil }
            return fields
        }
    }

    @Test("issue 18's bypass: the blocked user deletes the friendship, adds the blocker again and writes: refused")
    func deletingAndReAddingDoesNotLiftABlock() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let (a, b) = try await (UserTests.register(client), UserTests.register(client))
            _ = try await redis.send("HSET", testKeys.user(b.id), "invite_confirm", "0")
            try await MessageTests.chatset(redis, b.id, user: 2, visitor: 2)
            try await FriendTests.befriend(client, redis, a, b)
            #expect(try await Self.post(client, "setblackgoodfriend/\(a.id)", b) == Self.ok("ok"))
            #expect(try await Self.send(client, a, to: b) == Self.fail(Self.noMessage))

            #expect(try await Self.post(client, "deletegoodfriend/\(b.id)", a) == Self.ok("删除好友成功"))
            #expect(try await FriendTests.friendRow(redis, owner: b, friend: a) == nil)
            #expect(try await Self.send(client, a, to: b) == Self.fail(Self.noMessage), "no row: the block alone refuses")
            #expect(try await Self.post(client, "autoAddFriendAndAgree", ["friend_id": FriendTests.id(b)], a) == Self.fail(Self.noFriendship))
            #expect(try await Self.post(client, "applyfriend", ["friend_id": FriendTests.id(b)], a) == Self.fail(Self.noFriendship))
            #expect(try await Self.send(client, a, to: b) == Self.fail(Self.noMessage))
            // Nothing was written for the refused requests.
            #expect(try await FriendTests.friendRow(redis, owner: a, friend: b) == nil)
            #expect(try await FriendTests.friendRow(redis, owner: b, friend: a) == nil)
            #expect(try await redis.send("EXISTS", RedisKeys.friendRequestPair(from: a.id, to: b.id)).integer == 0)
            #expect(try await MessageTests.history(redis, owner: b.id, peer: a.id).isEmpty)
            #expect(try await Self.blocks(redis, b, a))
        }
    }

    @Test("a block survives a new friendship, the blocked user cannot lift it, the blocker can (also without a row); events")
    func onlyTheBlockerLiftsIt() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let (a, b) = try await (UserTests.register(client), UserTests.register(client))
            for user in [a, b] {
                _ = try await redis.send("HSET", testKeys.user(user.id), "invite_confirm", "0")
                try await MessageTests.chatset(redis, user.id, user: 2, visitor: 2)
            }
            try await FriendTests.befriend(client, redis, a, b)
            let mark = try await FriendTests.streamMark(redis)
            #expect(try await Self.post(client, "setblackgoodfriend/\(a.id)", b) == Self.ok("ok"))
            #expect(try await FriendTests.friendRow(redis, owner: b, friend: a)?["isblack"] == 1)
            #expect(try await Self.post(client, "deletegoodfriend/\(b.id)", a) == Self.ok("删除好友成功"))

            // The blocker adds the blocked user again: allowed; the blocker's new row mirrors the block.
            #expect(try await Self.post(client, "autoAddFriendAndAgree", ["friend_id": FriendTests.id(a)], b) == Self.ok("ok"))
            #expect(try await FriendTests.friendRow(redis, owner: b, friend: a)?["isblack"] == 1)
            #expect(try await FriendTests.friendRow(redis, owner: a, friend: b)?["isblack"] == 0)
            #expect(try await Self.send(client, a, to: b) == Self.fail(Self.noMessage))
            #expect(Self.isAccepted(try await Self.send(client, b, to: a)), "the blocker still writes")

            // The blocked user's toggle is a block of their own, not a lift of the other one.
            #expect(try await Self.post(client, "setblackgoodfriend/\(b.id)", a) == Self.ok("ok"))
            #expect(try await Self.blocks(redis, b, a))
            #expect(try await Self.blocks(redis, a, b))
            #expect(try await Self.send(client, b, to: a) == Self.fail(Self.noMessage))
            #expect(try await Self.post(client, "setblackgoodfriend/\(b.id)", a) == Self.ok("ok"))
            #expect(try await !Self.blocks(redis, a, b))
            #expect(try await Self.blocks(redis, b, a))
            #expect(try await Self.send(client, a, to: b) == Self.fail(Self.noMessage))

            // Deleted again: the blocked user has nothing to toggle; the blocker lifts the block without a row.
            #expect(try await Self.post(client, "deletegoodfriend/\(b.id)", a) == Self.ok("删除好友成功"))
            #expect(try await Self.post(client, "setblackgoodfriend/\(b.id)", a) == Self.fail("好友不存在"))
            #expect(try await Self.blocks(redis, b, a))
            #expect(try await Self.post(client, "setblackgoodfriend/\(a.id)", b) == Self.ok("ok"))
            #expect(try await !Self.blocks(redis, b, a))
            #expect(try await Self.post(client, "setblackgoodfriend/\(a.id)", b) == Self.fail("好友不存在"))

            // Lifted: messages and requests flow again.
            #expect(Self.isAccepted(try await Self.send(client, a, to: b)))
            #expect(try await Self.post(client, "autoAddFriendAndAgree", ["friend_id": FriendTests.id(b)], a) == Self.ok("ok"))
            #expect(try await FriendTests.friendRow(redis, owner: b, friend: a)?["isblack"] == 0)
            #expect(Self.isAccepted(try await Self.send(client, a, to: b)))

            // The events: b's block (upsert, version 1), a's block and its lift, b's lift (delete, version 2).
            let events = try await Self.blockEvents(redis, after: mark, a, b)
            #expect(events.map { $0["op"] ?? "" } == ["upsert", "upsert", "delete", "delete"])
            #expect(events.map { $0["version"] ?? "" } == ["1", "1", "2", "2"])
            let first = try #require(events.first)
            #expect(events.last?["id"] == first["id"] && events[1]["id"] == events[2]["id"] && events[1]["id"] != first["id"])
            let row = try #require(first["row"].flatMap { try? JSONParser.parse($0).objectValue })
            #expect(row.keys == ["id", "user_id", "blocked_id", "create_time"])
            #expect(row["user_id"] == FriendTests.id(b) && row["blocked_id"] == FriendTests.id(a))
            #expect(row["id"]?.integerValue.map(String.init) == first["id"])
        }
    }

    @Test("a row blacklisted before blocks existed becomes a block when the friendship is deleted")
    func legacyBlacklistBecomesABlock() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let (a, b) = try await (UserTests.register(client), UserTests.register(client))
            try await MessageTests.befriend(redis, owner: a.id, friend: b.id)
            try await MessageTests.befriend(redis, owner: b.id, friend: a.id, isblack: 1)
            #expect(try await !Self.blocks(redis, b, a))
            #expect(try await Self.send(client, a, to: b) == Self.fail(Self.noMessage))
            #expect(try await Self.post(client, "deletegoodfriend/\(b.id)", a) == Self.ok("删除好友成功"))
            #expect(try await Self.blocks(redis, b, a))
            #expect(try await !Self.blocks(redis, a, b))
            #expect(try await Self.post(client, "autoAddFriendAndAgree", ["friend_id": FriendTests.id(b)], a) == Self.fail(Self.noFriendship))
            #expect(try await Self.send(client, a, to: b) == Self.fail(Self.noMessage))
        }
    }

    @Test("every other path refuses the blocked user: agreeing, group creation, group invitation; the blocker's own invitation and others' pass")
    func everyPathRefuses() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let (a, b, c) = try await (UserTests.register(client), UserTests.register(client), UserTests.register(client))
            try await FriendTests.befriend(client, redis, a, b)
            try await FriendTests.befriend(client, redis, a, c)
            #expect(try await Self.post(client, "setblackgoodfriend/\(a.id)", b) == Self.ok("ok"))

            // The blocker asks; the blocked user cannot agree (refusing and ignoring still work).
            let request = try await FriendTests.apply(client, redis, b, to: a)
            #expect(try await Self.post(client, "handleapply/\(request)", ["status": "agree"], a) == Self.fail(Self.noFriendship))
            #expect(try await FriendTests.requestRow(redis, request)["status"] == "pending")
            #expect(try await Self.post(client, "handleapply/\(request)", ["status": "refuse"], a) == Self.ok("ok"))

            // Group creation with the blocker: refused, nothing created; without: created.
            let rowOfB = try #require(try await FriendTests.friendRow(redis, owner: a, friend: b)?["id"])
            let rowOfC = try #require(try await FriendTests.friendRow(redis, owner: a, friend: c)?["id"])
            #expect(try await Self.post(client, "group/create", ["userIds": [rowOfB, rowOfC]], a) == Self.fail(Self.noGroup))
            #expect(try await redis.send("ZCARD", testKeys.groupsOfUser(a.id)).integer == 0)
            #expect(try await redis.send("ZCARD", testKeys.groupsOfUser(b.id)).integer == 0)
            #expect(try await Self.post(client, "group/create", ["userIds": [rowOfC]], a) == Self.ok("ok"))
            let group = try #require(try await redis.send("ZREVRANGE", testKeys.groupsOfUser(a.id), 0, 0).array?.first?.string)

            // Invitation by the blocked user: refused; by another member: joined.
            let invite: JSONObject = ["group_id": .integer(Int64(group)!), "user_id": FriendTests.id(b)]
            #expect(try await Self.post(client, "groupInviteUser", .object(invite), a) == Self.fail(Self.noGroup))
            #expect(try await redis.send("HEXISTS", testKeys.groupMembers(Int(group)!), String(b.id)).integer == 0)
            #expect(try await Self.post(client, "groupInviteUser", .object(invite), c) == Self.ok("加群成功"))

            // The blocker puts the blocked user into a group of their own: allowed.
            try await FriendTests.befriend(client, redis, b, c)
            let rowOfC2 = try #require(try await FriendTests.friendRow(redis, owner: b, friend: c)?["id"])
            #expect(try await Self.post(client, "group/create", ["userIds": [rowOfC2]], b) == Self.ok("ok"))
            let own = try #require(try await redis.send("ZREVRANGE", testKeys.groupsOfUser(b.id), 0, 0).array?.first?.string)
            let invitation: JSONValue = ["group_id": .integer(Int64(own)!), "user_id": FriendTests.id(a)]
            #expect(try await Self.post(client, "groupInviteUser", invitation, b) == Self.ok("加群成功"))
        }
    }

    @Test("an automatic answer does not reach an asker who blocks the owner, also after the friendship was deleted")
    func automaticAnswersRespectTheBlock() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let dependencies = await TestBridge.dependencies(redis: redis)
        let replier = dependencies.autoReplies.replier
        try await Application(router: BridgeApplication.router(dependencies)).test(.router) { client in
            let (owner, asker) = try await (UserTests.register(client), UserTests.register(client))
            _ = try await AskAnswerTests.create(client, owner, "运费多少", "全国包邮")
            let question = try #require(AskedQuestion(type: "text", data: "运费多少？", options: ["askanswer": true]))
            let job = AutoReplyJob(question: question, asker: asker.id, owner: owner.id)
            let history = testKeys.singleHistory(owner: asker.id, peer: owner.id)

            try await FriendTests.befriend(client, redis, asker, owner)
            #expect(try await Self.post(client, "setblackgoodfriend/\(owner.id)", asker) == Self.ok("ok"))
            #expect(try await Self.post(client, "deletegoodfriend/\(asker.id)", owner) == Self.ok("删除好友成功"))
            await replier.reply(to: job)
            #expect(try await redis.send("LLEN", history).integer == 0)

            #expect(try await Self.post(client, "setblackgoodfriend/\(owner.id)", asker) == Self.ok("ok"))
            await replier.reply(to: job)
            #expect(try await redis.send("LLEN", history).integer == 1)
        }
    }
}
