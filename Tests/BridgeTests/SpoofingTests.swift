import Foundation
import HummingbirdTesting
import Model
import RedisClient
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// Issue 18, no spoofing: a client cannot send a type only the server sends, a revoke
/// notice names the peer as the stored message does, and a value placed in a link cannot
/// add or change its parameters.
@Suite("No spoofing", .offCooperativePool)
struct SpoofingTests {
    static let refusal = "不能发送系统消息"

    /// The newest entry of each shard of the messages stream: entries after it are this
    /// test's (and others').
    static func messagesMark(_ redis: RedisClient) async throws -> ShardedStream.Mark {
        try await ShardedStream.messages.mark(redis)
    }

    /// Stream entries after `mark` sent by `user`.
    static func entries(_ redis: RedisClient, after mark: ShardedStream.Mark, from user: Int) async throws -> Int {
        try await ShardedStream.messages.entries(redis, after: mark).filter { $0.fields["from_id"] == String(user) }.count
    }

    /// The messages from `sender` among a socket's frames, whatever their data.
    static func messages(from sender: Int, in frames: [String]) -> [[String: Any]] {
        frames.compactMap { text in
            let frame = GatewayTests.object(text)
            guard frame["type"] as? String == "singleChat", let message = frame["data"] as? [String: Any],
                  message["from_id"] as? Int == sender else { return nil }
            return message
        }
    }

    static func frame(_ cid: String, to: Int, chatType: String = "single", type: String) throws -> String {
        let message: [String: Any] = [
            "sendto_id": to, "chatType": chatType, "type": type,
            "data": ["data": "你的账号已被封禁，请点击链接申诉", "dataType": false, "otherData": NSNull()],
        ]
        let frame: [String: Any] = ["type": "send", "cid": cid, "message": message]
        return String(decoding: try JSONSerialization.data(withJSONObject: frame), as: UTF8.self)
    }

    @Test("a client's systemNotice is refused over HTTP and the send frame, single and group: nothing written or delivered, counted", .timeLimit(.minutes(1)))
    func reservedType() async throws {
        let bridge = try await DeliveryTests.bridge()
        let (me, you) = try (ChatDeliveryTests.openUser(bridge), ChatDeliveryTests.openUser(bridge))
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let mark = try await Self.messagesMark(redis)
        let (yours, _) = try await DeliveryTests.connected(bridge, you.token)
        let mine = try await bridge.connect(token: me.token)

        // HTTP, single and group (refused before the group is even looked up)
        for chatType in ["single", "group"] {
            let response = try bridge.post("/api/chat/socket/sendmessage", [
                "sendto_id": you.id, "chatType": chatType, "type": "systemNotice",
                "data": ["data": "你的账号已被封禁", "dataType": false, "otherData": NSNull()],
            ], token: me.token)
            #expect(response.status == 400 && response.body["msg"] as? String == "fail", "\(response)")
            #expect(response.body["data"] as? String == Self.refusal, "\(response)")
        }
        // the WebSocket send frame, single and group
        for (cid, chatType) in [("spoof-1", "single"), ("spoof-2", "group")] {
            try await mine.send(text: try Self.frame(cid, to: you.id, chatType: chatType, type: "systemNotice"))
            let ack = try await ChatDeliveryTests.acknowledgement(mine)
            #expect(ack["cid"] as? String == cid && ack["msg"] as? String == "fail" && ack["data"] as? String == Self.refusal)
        }

        // nothing written: no history, no stream entry, no client id remembered, nothing delivered
        #expect(try await redis.send("LLEN", testKeys.singleHistory(owner: me.id, peer: you.id)).integer == 0)
        #expect(try await redis.send("LLEN", testKeys.singleHistory(owner: you.id, peer: me.id)).integer == 0)
        #expect(try await Self.entries(redis, after: mark, from: me.id) == 0)
        #expect(try await redis.send("EXISTS", testKeys.sentByClientID(me.id, "spoof-1")).integer == 0)
        #expect(Self.messages(from: me.id, in: await yours.texts(for: 0.3)).isEmpty)
        #expect(try bridge.metric("chat_reserved_type_refusals_total") == 4)

        // the same frame with a client's type goes through: the refusals were the type's
        try await mine.send(text: try Self.frame("plain", to: you.id, type: "text"))
        #expect(try await ChatDeliveryTests.acknowledgement(mine)["msg"] as? String == "ok")
        let delivered = Self.messages(from: me.id, in: await yours.texts(for: 1))
        #expect(delivered.count == 1 && delivered.first?["type"] as? String == "text")
        #expect(try await redis.send("LLEN", testKeys.singleHistory(owner: me.id, peer: you.id)).integer == 1)
        await mine.close()
        await yours.close()
    }

    @Test("a revoke with a forged to_name and to_avatar: the peer's notice and the stream entry carry the stored message's")
    func forgedRevokeNames() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let (me, you) = try await (UserTests.register(client), UserTests.register(client))
            try await MessageTests.befriend(redis, owner: me.id, friend: you.id, remark: "我给你的备注")
            try await MessageTests.befriend(redis, owner: you.id, friend: me.id)
            _ = try await redis.send("HSET", testKeys.user(you.id), "avatar", "https://a.example/you.png")
            let message = try await MessageTests.sent(client, me, to: you.id, ["data": "撤回我"])
            #expect(message["to_name"] == "我给你的备注" && message["to_avatar"] == "https://a.example/you.png")
            _ = try await redis.send("DEL", testKeys.offlineQueue(you.id))
            let mark = try await Self.messagesMark(redis)

            let forged: JSONObject = ["to_name": "系统管理员", "to_avatar": "https://evil.example/admin.png"]
            #expect(try await MessageTests.revoke(client, me, message, to: you.id, forged).status == .ok)
            let queued = try await FriendTests.queued(redis, you)
            let notice = try #require(queued.first)
            #expect(queued.count == 1 && notice["actionType"] == "revoke" && notice["id"] == message["id"])
            #expect(notice["to_name"] == "我给你的备注" && notice["to_avatar"] == "https://a.example/you.png")
            let entry = try #require(try await MessageTests.streamEntries(redis, after: mark, id: message["id"]?.stringValue ?? "").first)
            let fields = Dictionary(entry, uniquingKeysWith: { first, _ in first })
            #expect(fields["to_name"] == "我给你的备注" && fields["to_avatar"] == "https://a.example/you.png")
        }
    }

    @Test("a nickname with &, = and # in the join-approval link is encoded: one applicant, the right one")
    func approvalLinkEncoded() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let people = try await GroupTests.users(client, 3)
            let (owner, member, applicant) = (people[0], people[1], people[2])
            let gid = try await GroupTests.makeGroup(client, redis, owner: owner, members: [member])
            #expect(try await GroupTests.post(client, "groupAddUserSet", ["group_id": .integer(Int64(gid)), "addGroupSet": 1], owner)
                == GroupTests.ok("设置成功"))
            let crafted = "x&applyUserid=\(member.id)&applyUsername=y#z=1"
            try await GroupTests.setNickname(redis, applicant, crafted)
            #expect(try await GroupTests.invite(client, applicant, group: gid, joiner: applicant, inviter: -1) == GroupTests.ok("等待群主同意"))

            let request = try #require(try await FriendTests.queued(redis, owner).first)
            let url = try #require(request["redirect"]?.objectValue?["url"]?.stringValue)
            #expect(!url.contains("#") && url.contains("&applyUsername=x%26applyUserid%3D\(member.id)%26applyUsername%3Dy%23z%3D1&"), "\(url)")
            // read as the client reads a query: every parameter once, the applicant's own values
            let query = try #require(url.split(separator: "?", maxSplits: 1).last)
            let pairs = query.split(separator: "&").map { $0.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false) }
            #expect(pairs.allSatisfy { $0.count == 2 }, "\(url)")
            let names = pairs.map { String($0[0]) }
            #expect(Set(names).count == names.count, "\(names)")
            let values = Dictionary(pairs.map { (String($0[0]), URIComponent.decode(String($0[1])) ?? "") }, uniquingKeysWith: { first, _ in first })
            #expect(values["applyUserid"] == String(applicant.id) && values["applyUsername"] == crafted)
            #expect(values["applyUseruuid"] == applicant.uuid)
        }
    }
}
