import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Model
import RedisClient
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// docs/operations.md *Quotas*: sends per user per second (real bridge processes, HTTP and
/// the WebSocket send frame), members per group and uploads per user per day (the router
/// over the real test Redis): the Chinese refusal, nothing written, and the metric.
@Suite("Quotas", .serialized, .offCooperativePool)
struct QuotaTests {
    typealias Account = (id: Int, token: String, username: String)

    /// Stream entries after `mark` whose fields mention `marker`.
    static func streamEntries(_ redis: RedisClient, after mark: String, mentioning marker: String) async throws -> Int {
        let entries = try await redis.send("XRANGE", StreamName.messages, "(" + mark, "+").array ?? []
        return entries.filter { entry in
            (entry.array?.last?.array ?? []).contains { $0.string?.contains(marker) == true }
        }.count
    }

    static func lastStreamID(_ redis: RedisClient) async throws -> String {
        let last = try await redis.send("XREVRANGE", StreamName.messages, "+", "-", "COUNT", 1).array?.first
        return last?.array?.first?.string ?? "0-0"
    }

    static func metric(_ bridge: BridgeProcess, _ line: String) -> Bool {
        HTTPProbe.get(port: bridge.metricsPort, path: "/metrics")?.body.split(separator: "\n").contains { $0 == line } == true
    }

    @Test("a sender over its rate: refused with the Chinese text over HTTP and the send frame, nothing written, counted; the bucket refills", .timeLimit(.minutes(1)))
    func sendRate() async throws {
        let bridge = try await BridgeProcess(
            redisURL: try TestEnvironment.redisURL(), settings: ["SEND_RATE": "1", "SEND_BURST": "3"]
        )
        let (me, you) = try (ChatDeliveryTests.openUser(bridge), ChatDeliveryTests.openUser(bridge))
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let marker = "over-rate-\(UUID().uuidString)"
        let refusal = "发送太频繁，请稍后再试"
        let start = ContinuousClock.now
        // The bucket refills one token a second; a loaded machine may take that long over a
        // request, so sends are counted against the time they took, never timed.
        var accepted = 0
        func allowed() -> Int { 3 + Int((ContinuousClock.now - start).components.seconds) + 1 }

        // Over HTTP: sends until one is refused (you are offline: the accepted ones queued).
        var refused: (status: Int, body: [String: Any])?
        for index in 0..<20 where refused == nil {
            let mark = try await Self.lastStreamID(redis)
            let reply = try bridge.post(
                "/api/chat/socket/sendmessage", ["sendto_id": you.id, "chatType": "single", "type": "text", "data": "\(marker)-\(index)"],
                token: me.token
            )
            if reply.body["msg"] as? String == "ok" {
                accepted += 1
                continue
            }
            refused = (reply.status, reply.body)
            // nothing written: no history entry (either side), no stream entry, no queue entry
            #expect(try await Self.streamEntries(redis, after: mark, mentioning: "\(marker)-\(index)") == 0)
        }
        #expect(accepted >= 3 && accepted <= allowed(), "\(accepted) accepted")
        #expect(refused?.status == 400)  // every fail(…) is a 400
        #expect(refused?.body["msg"] as? String == "fail" && refused?.body["data"] as? String == refusal, "\(String(describing: refused))")
        #expect(try await redis.send("LLEN", testKeys.singleHistory(owner: me.id, peer: you.id)).integer == Int64(accepted))
        #expect(try await redis.send("LLEN", testKeys.singleHistory(owner: you.id, peer: me.id)).integer == Int64(accepted))
        #expect(try await redis.send("LLEN", testKeys.offlineQueue(you.id)).integer == Int64(accepted))

        // The send frame gets the same refusal, and a refused frame's client id is not
        // remembered; counted like HTTP.
        let socket = try await bridge.connect(token: me.token)
        var frameRefused = false
        for index in 0..<20 where !frameRefused {
            let mark = try await Self.lastStreamID(redis)
            try await socket.send(text: try ChatDeliveryTests.sendFrame("fast\(index)", to: you.id, "\(marker)-f\(index)"))
            let ack = try await ChatDeliveryTests.acknowledgement(socket)
            #expect(ack["cid"] as? String == "fast\(index)", "\(ack)")
            if ack["msg"] as? String == "ok" {
                accepted += 1
                continue
            }
            frameRefused = true
            #expect(ack["msg"] as? String == "fail" && ack["data"] as? String == refusal, "\(ack)")
            #expect(try await redis.send("EXISTS", testKeys.sentByClientID(me.id, "fast\(index)")).integer == 0)
            #expect(try await Self.streamEntries(redis, after: mark, mentioning: "\(marker)-f\(index)") == 0)
        }
        #expect(frameRefused)
        #expect(accepted <= allowed(), "\(accepted) accepted")
        #expect(try await redis.send("LLEN", testKeys.offlineQueue(you.id)).integer == Int64(accepted))
        #expect(Self.metric(bridge, #"chat_quota_refusals_total{quota="send_rate"} 2"#))

        // One token a second: after a pause the next send goes through.
        try await Task.sleep(for: .milliseconds(1100))
        _ = try ChatDeliveryTests.send(bridge, me, to: you.id, "later")
        accepted += 1
        #expect(try await redis.send("LLEN", testKeys.offlineQueue(you.id)).integer == Int64(accepted))
        // the bucket is one key per sender, with an expiry
        #expect(try await redis.send("PTTL", testKeys.sendRate(me.id)).integer.map { $0 > 0 && $0 <= 3000 } == true)
        // another sender has a bucket of their own
        _ = try ChatDeliveryTests.send(bridge, you, to: me.id, "mine")
        await socket.close()
    }

    @Test("a group send over the rate: refused, nothing stored nor queued", .timeLimit(.minutes(1)))
    func groupSendRate() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        var settings = TestBridge.settings()
        settings.messages.sendRate = 1
        settings.messages.sendBurst = 2
        try await TestBridge.app(redis: redis, settings: settings).test(.router) { client in
            let people = try await GroupTests.users(client, 3)
            let (owner, a, b) = (people[0], people[1], people[2])
            let group = try await GroupTests.makeGroup(client, redis, owner: owner, members: [a, b])
            let send = { (text: String) in
                try await GroupTests.post(client, "socket/sendmessage", ["sendto_id": .integer(Int64(group)), "chatType": "group", "type": "text", "data": .string(text)], owner)
            }
            for index in 0..<2 { #expect(try await send("g\(index)").objectValue?["msg"] == "ok") }
            #expect(try await send("over") == GroupTests.fail("发送太频繁，请稍后再试"))
            #expect(try await redis.send("LLEN", testKeys.groupHistory(group)).integer == 2)
            #expect(try await redis.send("LLEN", testKeys.offlineQueue(a.id)).integer == 2)
            #expect(try await redis.send("LLEN", testKeys.offlineQueue(b.id)).integer == 2)
        }
    }

    @Test("members per group: create beyond it, an invitation and an application beyond it are refused, nothing written; an approval never goes beyond")
    func groupMembers() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        var settings = TestBridge.settings()
        settings.groupMaxMembers = 3
        try await TestBridge.app(redis: redis, settings: settings).test(.router) { client in
            let people = try await GroupTests.users(client, 6)
            let (owner, a, b, c, d, e) = (people[0], people[1], people[2], people[3], people[4], people[5])
            // four with the owner: refused, no group
            for member in [a, b, c] { try await MessageTests.befriend(redis, owner: owner.id, friend: member.id) }
            let rows = [a, b, c].map { JSONValue.integer(Int64(owner.id * 1000 + $0.id)) }
            #expect(try await GroupTests.post(client, "group/create", ["userIds": .array(rows)], owner) == GroupTests.fail("群成员人数已达上限"))
            #expect(try await redis.send("ZCARD", testKeys.groupsOfUser(owner.id)).integer == 0)

            // three: created; a fourth by invitation is refused, nothing written
            let group = try await GroupTests.makeGroup(client, redis, owner: owner, members: [a, b])
            #expect(try await GroupTests.invite(client, owner, group: group, joiner: c) == GroupTests.fail("群成员人数已达上限"))
            #expect(try await GroupTests.member(redis, group, c) == nil)
            #expect(try await redis.send("HLEN", testKeys.groupMembers(group)).integer == 3)

            // with approval: applicants count, so the one approved never makes it four
            let g = JSONValue.integer(Int64(group))
            #expect(try await GroupTests.post(client, "groupDeleteUser", ["group_id": g, "user_id": GroupTests.id(b)], owner) == GroupTests.ok("删除群成员成功"))
            #expect(try await GroupTests.post(client, "groupAddUserSet", ["group_id": g, "addGroupSet": 1], owner) == GroupTests.ok("设置成功"))
            #expect(try await GroupTests.invite(client, d, group: group, joiner: d, inviter: -1) == GroupTests.ok("等待群主同意"))
            #expect(try await GroupTests.invite(client, e, group: group, joiner: e, inviter: -1) == GroupTests.fail("群成员人数已达上限"))
            #expect(try await GroupTests.member(redis, group, e) == nil)
            #expect(try await GroupTests.post(client, "groupAgreeOrNo", ["group_id": g, "user_id": GroupTests.id(d), "type": "agree"], owner).objectValue?["msg"] == "ok")
            #expect(try await redis.send("HLEN", testKeys.groupMembers(group)).integer == 3)
        }
    }

    @Test("uploads per user per day: the one beyond is refused on both endpoints and stores nothing; another user is not affected")
    func uploadsPerDay() async throws {
        let fixture = try FileTests.Fixture { $0.uploadsPerDay = 2 }
        defer { fixture.remove() }
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await FileTests.withBridge(settings: fixture.settings) { client, me in
            let body = { FileTests.multipart(field: "file", filename: "a.jpg", content: FileTests.bytes(100)) }
            for _ in 0..<2 {
                let answer = try await FileTests.upload(client, "/api/chat/uploadStreamSingleToServerDiy/q", body(), token: me.token)
                #expect(answer.objectValue?["msg"] == "ok", "\(answer)")
            }
            let refused = try await FileTests.upload(client, "/api/chat/uploadStreamSingleToServerDiy/q", body(), token: me.token)
            #expect(refused == FileTests.fail("今日上传文件数量已达上限，请明天再试"))
            let aliyun = try await FileTests.upload(
                client, "/api/chat/uploadAliyun", FileTests.multipart(field: "img", filename: "a.jpg", content: FileTests.bytes(100)), token: me.token
            )
            #expect(aliyun == FileTests.fail("上传失败: 今日上传文件数量已达上限，请明天再试"))
            #expect(fixture.files().count == 2)
            let key = testKeys.uploadsOfDay(me.id, day: UploadNames.day())
            #expect(try await redis.send("TTL", key).integer.map { $0 > 86_400 && $0 <= 2 * 86_400 } == true)

            let other = try await UserTests.register(client)
            let answer = try await FileTests.upload(client, "/api/chat/uploadStreamSingleToServerDiy/q", body(), token: other.token)
            #expect(answer.objectValue?["msg"] == "ok")
            #expect(fixture.files().count == 3)
        }
    }

    @Test("the bridge process counts group and upload refusals in chat_quota_refusals_total", .timeLimit(.minutes(1)))
    func refusalsCounted() async throws {
        let fixture = try FileTests.Fixture()
        defer { fixture.remove() }
        let bridge = try await BridgeProcess(
            redisURL: try TestEnvironment.redisURL(),
            settings: ["UPLOAD_DIR": fixture.folder.path, "UPLOADS_PER_DAY": "1", "GROUP_MAX_MEMBERS": "2"]
        )
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let (me, a, b) = try (bridge.register(), bridge.register(), bridge.register())
        for friend in [a, b] { try await MessageTests.befriend(redis, owner: me.id, friend: friend.id) }
        let create = try bridge.post("/api/chat/group/create", ["userIds": [me.id * 1000 + a.id, me.id * 1000 + b.id]], token: me.token)
        #expect(create.body["data"] as? String == "群成员人数已达上限", "\(create)")

        let body = Array(FileTests.multipart(field: "file", filename: "a.jpg", content: FileTests.bytes(10)).readableBytesView)
        let headers = [("Content-Type", "multipart/form-data; boundary=\(FileTests.boundary)"), ("token", me.token)]
        var answers: [String] = []
        for _ in 0..<2 {
            let response = HTTPProbe.request(port: bridge.port, method: "POST", path: "/api/chat/uploadStreamSingleToServerDiy/q", headers: headers, body: body)
            answers.append(response?.body ?? "")
        }
        #expect(answers[0].contains(#""msg":"ok""#), "\(answers)")
        #expect(answers[1].contains("今日上传文件数量已达上限，请明天再试"), "\(answers)")
        #expect(fixture.files().count == 1)
        #expect(Self.metric(bridge, #"chat_quota_refusals_total{quota="group_members"} 1"#))
        #expect(Self.metric(bridge, #"chat_quota_refusals_total{quota="uploads_per_day"} 1"#))
    }
}
