import Foundation
import HummingbirdTesting
import Model
import RedisClient
import Testing
import TestSupport

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// The history index (docs/architecture.md, *History index*): revoke and the client-id
/// dedup find a message through `{history}:ids`, never by scanning the history list;
/// the index follows the history through trims, and a history without one (written
/// before it existed) is indexed again at its first lookup. On a Redis of the test's
/// own, so that `INFO commandstats` counts only these scripts' commands.
@Suite("History index", .serialized, .offCooperativePool)
struct HistoryIndexTests {
    typealias Account = UserTests.Account

    /// Histories of 5 entries, so that a few sends trim them.
    static func settings() -> BridgeSettings {
        var settings = TestBridge.settings()
        settings.messages.historyCap = 5
        return settings
    }

    static func ids(_ redis: RedisClient, _ history: String) async throws -> (list: [String], index: [String]) {
        let entries = try await redis.send("LRANGE", history, 0, -1).array ?? []
        let list = entries.compactMap { $0.bytes.flatMap { try? JSONParser.parse($0).objectValue?["id"]?.stringValue } }
        let index = (try await redis.send("ZRANGE", history + ":ids", 0, -1).array ?? []).compactMap(\.string)
        return (list, index)
    }

    /// Calls of the commands that read a list by position or value, so far.
    static func listReads(_ redis: RedisClient) async throws -> Int {
        let text = try await redis.send("INFO", "commandstats").string ?? ""
        var total = 0
        for line in text.split(whereSeparator: \.isNewline) {
            let name = line.split(separator: ":").first ?? ""
            guard ["cmdstat_lrange", "cmdstat_lindex", "cmdstat_lpos"].contains(name),
                  let calls = line.split(separator: "=").dropFirst().first?.split(separator: ",").first.flatMap({ Int($0) })
            else { continue }
            total += calls
        }
        return total
    }

    /// A single chat's index: on the lower uid's history (the other is its mirror).
    static func pairIndex(_ a: Int, _ b: Int) -> String {
        testKeys.singleHistory(owner: min(a, b), peer: max(a, b)) + ":ids"
    }

    static func withApp(_ body: @escaping @Sendable (any TestClientProtocol, RedisClient) async throws -> Void) async throws {
        let server = try RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration.forTests(url: server.url))
        do {
            try await TestBridge.app(redis: redis, settings: settings()).test(.router) { client in
                try await body(client, redis)
            }
        } catch {
            await redis.shutdown()
            server.stop()
            throw error
        }
        await redis.shutdown()
        server.stop()
    }

    @Test("single chat: the pair's index follows the histories through trims; revoke finds kept messages, a trimmed or unknown one without reading the list; mirrors that differ are scanned", .timeLimit(.minutes(1)))
    func singleRevoke() async throws {
        try await Self.withApp { client, redis in
            let (me, you) = try await (UserTests.register(client), UserTests.register(client))
            try await MessageTests.befriend(redis, owner: you.id, friend: me.id)
            var sent: [JSONObject] = []
            for index in 0..<8 { sent.append(try await MessageTests.sent(client, me, to: you.id, ["data": .string("m\(index)")])) }
            let ids = sent.compactMap { $0["id"]?.stringValue }
            let indexed = testKeys.singleHistory(owner: min(me.id, you.id), peer: max(me.id, you.id))
            let mirror = testKeys.singleHistory(owner: max(me.id, you.id), peer: min(me.id, you.id))
            #expect(indexed + ":ids" == Self.pairIndex(me.id, you.id))
            let (list, index) = try await Self.ids(redis, indexed)
            let mirrored = try await Self.ids(redis, mirror).list
            #expect(list == Array(ids.suffix(5)) && mirrored == list)
            #expect(Set(index) == Set(list) && index.count == 5)
            // in list order
            let ranks = try await list.asyncMap { try await redis.send("ZRANK", indexed + ":ids", $0).integer }
            #expect(ranks == [0, 1, 2, 3, 4])
            // one index for the pair when one partition holds both histories; between
            // partitions each history keeps its own (the sender's and the recipient's steps)
            if testKeys.layout.partition(ofUser: me.id) == testKeys.layout.partition(ofUser: you.id) {
                #expect(try await redis.send("EXISTS", mirror + ":ids").integer == 0)
            } else {
                let mirrorIndex = (try await redis.send("ZRANGE", mirror + ":ids", 0, -1).array ?? []).compactMap(\.string)
                #expect(Set(mirrorIndex) == Set(mirrored) && mirrorIndex.count == 5)
            }

            let before = try await Self.listReads(redis)
            // trimmed: gone from the history (and its index)
            #expect(try await MessageTests.revoke(client, me, sent[0], to: you.id).body == MessageTests.fail("消息不存在或无权撤回"))
            // never there
            #expect(try await MessageTests.revoke(client, me, sent[7], to: you.id, ["id": "0f0f0f0f-0000-4000-8000-000000000000"]).body
                == MessageTests.fail("消息不存在或无权撤回"))
            #expect(try await Self.listReads(redis) == before, "no list was read")

            // a kept one, in the middle: both copies marked, nothing else
            #expect(try await MessageTests.revoke(client, me, sent[5], to: you.id).status == .ok)
            #expect(try await Self.listReads(redis) == before + 2, "one LINDEX per history")
            for (owner, peer) in [(me.id, you.id), (you.id, me.id)] {
                let history = try await MessageTests.history(redis, owner: owner, peer: peer)
                #expect(history.map { $0["isremove"] } == [0, 0, 1, 0, 0])
            }

            // mirrors that differ (an old server's data): the unindexed one is scanned
            _ = try await redis.send("LINSERT", mirror, "BEFORE", try #require(try await redis.send("LINDEX", mirror, -1).string), #"{"id":"old"}"#)
            #expect(try await MessageTests.revoke(client, me, sent[6], to: you.id).status == .ok)
            for (owner, peer) in [(me.id, you.id), (you.id, me.id)] {
                let history = try await MessageTests.history(redis, owner: owner, peer: peer)
                #expect(history.filter { $0["id"] == sent[6]["id"] }.map { $0["isremove"] } == [1])
            }
        }
    }

    @Test("group: a revoke with an unknown id reads no list; a history without its index is indexed again at the first lookup, then kept", .timeLimit(.minutes(1)))
    func groupRevoke() async throws {
        try await Self.withApp { client, redis in
            let people = try await GroupTests.users(client, 3)
            let gid = try await GroupTests.makeGroup(client, redis, owner: people[0], members: [people[1], people[2]])
            var sent: [JSONObject] = []
            for index in 0..<7 {
                let response = try await GroupTests.sendToGroup(client, people[1], group: gid, "g\(index)")
                sent.append(try #require(response.body.objectValue?["data"]?.objectValue, "\(response.body)"))
            }
            let history = testKeys.groupHistory(gid)
            let ids = sent.compactMap { $0["id"]?.stringValue }
            #expect(try await Self.ids(redis, history).list == Array(ids.suffix(5)))
            #expect(try await redis.send("ZCARD", history + ":ids").integer == 5)
            let revoke = { (message: JSONObject, extra: JSONObject) in
                var body = extra
                body["chatType"] = "group"
                return try await MessageTests.revoke(client, people[1], message, to: gid, body).body
            }

            let before = try await Self.listReads(redis)
            #expect(try await revoke(sent[6], ["id": "00000000-0000-4000-8000-000000000000"]) == GroupTests.fail("消息不存在或无权撤回"))
            #expect(try await revoke(sent[1], [:]) == GroupTests.fail("消息不存在或无权撤回"))
            #expect(try await Self.listReads(redis) == before, "no list was read")
            #expect(try await revoke(sent[3], [:]).objectValue?["msg"] == "ok")
            #expect(try await GroupTests.history(redis, gid).map { $0["isremove"] } == [0, 1, 0, 0, 0])

            // written before the index existed: the first lookup rebuilds it (one scan)
            _ = try await redis.send("DEL", history + ":ids")
            #expect(try await revoke(sent[5], [:]).objectValue?["msg"] == "ok")
            #expect(try await GroupTests.history(redis, gid).map { $0["isremove"] } == [0, 1, 0, 1, 0])
            var (list, index) = try await Self.ids(redis, history)
            #expect(index.count == 5 && Set(index) == Set(list))
            // and kept from then on, without reading the list again
            let next = try #require(try await GroupTests.sendToGroup(client, people[1], group: gid, "g7").body.objectValue?["data"]?.objectValue)
            (list, index) = try await Self.ids(redis, history)
            #expect(list == Array((ids + [try #require(next["id"]?.stringValue)]).suffix(5)))
            #expect(index.count == 5 && Set(index) == Set(list))
            let sentNext = try await Self.listReads(redis)
            #expect(try await revoke(next, [:]).objectValue?["msg"] == "ok")
            let afterRevoke = try await Self.listReads(redis)
            #expect(afterRevoke == sentNext + 1, "one LINDEX: \(afterRevoke - sentNext)")
        }
    }

    @Test("an append keeps an exact index and drops one that is not (a member missing or extra), on a full history and below its cap", .timeLimit(.minutes(1)))
    func appendChecksExactness() async throws {
        try await Self.withApp { client, redis in
            let people = try await GroupTests.users(client, 2)
            let gid = try await GroupTests.makeGroup(client, redis, owner: people[0], members: [people[1]])
            let history = testKeys.groupHistory(gid)
            let index = history + ":ids"
            var count = 0
            func send() async throws {
                let response = try await GroupTests.sendToGroup(client, people[1], group: gid, "m\(count)")
                count += 1
                #expect(response.body.objectValue?["msg"] == "ok", "\(response.body)")
            }
            func indexExists() async throws -> Bool { try await redis.send("EXISTS", index).integer == 1 }
            func exact() async throws -> Bool {
                let (list, members) = try await Self.ids(redis, history)
                return list == members
            }

            // below the cap (ZCARD decides): a member missing
            _ = try await redis.send("DEL", history, index)
            for _ in 0..<2 { try await send() }
            #expect(try await exact())
            let oldest = try #require(try await Self.ids(redis, history).index.first)
            _ = try await redis.send("ZREM", index, oldest)
            try await send()
            #expect(try await indexExists() == false, "dropped below the cap")

            // full (the index's own trim decides): exact through trims once rebuilt
            _ = try await redis.send("DEL", history)
            for _ in 0..<7 { try await send() }
            #expect(try await Self.ids(redis, history).list.count == 5)
            #expect(try await exact(), "an empty index starts with an empty history and follows it through trims")
            // a member missing
            _ = try await redis.send("ZREM", index, try #require(try await Self.ids(redis, history).index.first))
            try await send()
            #expect(try await indexExists() == false, "dropped on a full history: a member missing")
            // started again, then an extra member
            _ = try await redis.send("DEL", history, index)
            for _ in 0..<6 { try await send() }
            #expect(try await exact())
            _ = try await redis.send("ZADD", index, 0, "not-an-entry")
            try await send()
            #expect(try await indexExists() == false, "dropped on a full history: a member extra")
        }
    }

    @Test("client-id dedup: a retry answers the stored message through the index, after trims and without an index; trimmed: the id alone", .timeLimit(.minutes(1)))
    func dedup() async throws {
        try await Self.withApp { client, redis in
            let (me, you) = try await (UserTests.register(client), UserTests.register(client))
            try await MessageTests.befriend(redis, owner: you.id, friend: me.id)
            let dependencies = await TestBridge.dependencies(redis: redis, settings: Self.settings())
            let sender = dependencies.sender
            func send(_ text: String, clientID: String) async throws -> JSONObject {
                let request = try SendRequest(RequestParameters(body: [
                    "sendto_id": .integer(Int64(you.id)), "chatType": "single", "type": "text", "data": .string(text),
                ]))
                let bytes = try await sender.send(request, from: .init(user: me.id, uncheckedToken: me.token), clientID: clientID)
                return try #require(try JSONParser.parse(bytes).objectValue)
            }
            let first = try await send("first", clientID: "c-first")
            #expect(try await send("first again", clientID: "c-first") == first)
            for index in 0..<3 { _ = try await send("filler \(index)", clientID: "c-\(index)") }
            // no index (a history from before it): rebuilt, the same answer
            _ = try await redis.send("DEL", Self.pairIndex(me.id, you.id))
            #expect(try await send("first again", clientID: "c-first") == first)
            #expect(try await redis.send("ZCARD", Self.pairIndex(me.id, you.id)).integer == 4)
            // trimmed out of the history: the id alone, and no list read
            for index in 3..<8 { _ = try await send("filler \(index)", clientID: "c-\(index)") }
            let before = try await Self.listReads(redis)
            #expect(try await send("first again", clientID: "c-first") == ["id": first["id"] ?? .null])
            #expect(try await Self.listReads(redis) == before)
            #expect(try await MessageTests.history(redis, owner: me.id, peer: you.id).count == 5)
        }
    }
}
