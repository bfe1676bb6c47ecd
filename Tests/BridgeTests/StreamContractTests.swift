import Foundation
import Model
import Testing
import TestSupport

/// The public streams' contract (docs/streams.md) against a real bridge: a workload that
/// writes every kind of entry (every entity, both operations where the API has them,
/// message types, revokes in both chat types) on a Redis of the test's own; every entry
/// is validated with `schemas/streams/validate.py` and every kind must be there. The
/// validator must refuse broken entries (else this proves nothing). And the analytics
/// example (`examples/analytics/`) run on known traffic, its printed figures checked
/// exactly. `make test` validates every other test's entries the same way (docs/testing.md).
@Suite("stream contract", .serialized, .offCooperativePool)
struct StreamContractTests {
    typealias Account = (id: Int, token: String, username: String)

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let validator = root.appendingPathComponent("schemas/streams/validate.py").path
    static let example = root.appendingPathComponent("examples/analytics/analytics.py").path

    /// Every schema the workload must have produced entries of.
    static let kinds: Set<String> = [
        "message", "revoke", "entity-user", "entity-user_info", "entity-goodfriend", "entity-goodfriendapply", "entity-group",
        "entity-group_user", "entity-complaint", "entity-askanswer", "entity-block",
    ]
    /// Entities the API can delete, and so must show a `delete` too.
    static let deleted: Set<String> = ["goodfriend", "goodfriendapply", "group", "group_user", "askanswer", "block"]
    static let messageTypes: Set<String> = ["text", "image", "audio", "video", "iconMenus"]

    @Test("every entry of a workload of every kind is valid, and every kind is there")
    func everyKindValid() async throws {
        let server = try RedisServerProcess()
        let bridge = try await BridgeProcess(redisURL: server.url)
        let traffic = Traffic(bridge: bridge)
        try traffic.everyKind()

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("contract-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = StreamCollection.collect(port: server.port, label: "contract", into: folder)
        #expect(files.count == StreamCollection.shards.count, "every shard of both public streams dumped: \(files)")
        let run = try Python.run([Self.validator, folder.path])
        #expect(run.status == 0, "\(run.output.prefix(4000))")

        var seen: Set<String> = [], ops: Set<String> = [], types: Set<String> = []
        for file in files {
            for fields in try Self.entries(file) {
                if let entity = fields["entity"] {
                    seen.insert("entity-" + entity)
                    ops.insert("\(entity) \(fields["op"] ?? "")")
                } else if let kind = fields["kind"] {
                    seen.insert(kind)
                    if kind == "message" { types.insert(fields["type"] ?? "") }
                    if kind == "revoke" { types.insert("revoke \(fields["chat_type"] ?? "")") }
                }
            }
        }
        #expect(seen == Self.kinds, "kinds seen: \(seen.sorted())")
        for entity in Self.deleted { #expect(ops.contains("\(entity) delete"), "no delete of \(entity): \(ops.sorted())") }
        #expect(types.isSuperset(of: Self.messageTypes.union(["revoke single", "revoke group"])), "\(types.sorted())")
        #expect(run.output.contains("0 invalid"), "\(run.output.prefix(2000))")
    }

    @Test("the validator refuses broken entries, each with its reason, and accepts the good ones they were made from")
    func brokenEntriesRefused() throws {
        let row = #"{"id":7,"uuid":"0b7e5a52-5f8e-4c1a-9f1e-0d6a1c2b3e4f","username":"seven","nickname":"七","avatar":"","uniplatform":"","devicemodel":"","deviceos":"","devicebrand":"","userset":"","invite_confirm":1,"status":1,"last_login":null,"register_time":"2026-12-07T08:00:00.000Z","is_deleted":0,"role":"user","order":0,"create_time":"2026-12-07 08:00:00","update_time":"2026-12-07 08:00:00"}"#
        let user: [String: String] = ["v": "2", "entity": "user", "op": "upsert", "id": "7", "version": "1", "row": row]
        let message: [String: String] = [
            "v": "1", "kind": "message", "id": "0b7e5a52-5f8e-4c1a-9f1e-0d6a1c2b3e4f", "chat_type": "single", "type": "text",
            "from_id": "7", "to_id": "8", "from_name": "七", "from_avatar": "", "to_name": "八", "to_avatar": "",
            "data": #""你好""#, "options": "{}", "create_time": "1796626372981", "isremove": "0",
        ]
        #expect(try Self.validate("chat:stream:entities", user).status == 0)
        #expect(try Self.validate("chat:stream:messages", message).status == 0)

        // (stream, the good entry, the field changed, its new value (nil: removed), the reason expected)
        let password = row.replacingOccurrences(of: #""role":"user""#, with: #""role":"user","password":"$2b$04$x""#)
        let changes: [(String, [String: String], String, String?, String)] = [
            ("chat:stream:entities", user, "row", password, "password"),
            ("chat:stream:entities", user, "v", "1", "v: '2' was expected"),
            ("chat:stream:entities", user, "row", "{this is not json", "not JSON text"),
            ("chat:stream:entities", user, "entity", "admin", "no schema"),
            ("chat:stream:messages", message, "from_id", nil, "from_id"),
            ("chat:stream:messages", message, "create_time", "yesterday", "create_time"),
            ("chat:stream:messages", message, "chat_type", "channel", "chat_type"),
        ]
        let broken = changes.map { stream, good, field, value, reason in
            var fields = good
            fields[field] = value
            return (stream, fields, reason)
        }
        for (stream, fields, reason) in broken {
            let run = try Self.validate(stream, fields)
            #expect(run.status == 1 && run.output.contains("reason:") && run.output.contains(reason), "\(fields): \(run.output)")
        }
    }

    @Test("the analytics example: its own group from now, the exact figures of known traffic, a PNG chart, everything acknowledged")
    func analyticsExample() async throws {
        let server = try RedisServerProcess()
        let bridge = try await BridgeProcess(redisURL: server.url)
        let traffic = Traffic(bridge: bridge)
        let (a, b, c) = try (bridge.register(), bridge.register(), bridge.register())
        try traffic.ok("/api/chat/updateUserinfo", ["fieldname": "nickname", "fieldValue": "阿甲"], a)
        try traffic.befriend(b, a)
        try traffic.befriend(c, a)
        let (group, groupName) = try traffic.group(owner: a, members: [b, c])
        let chart = FileManager.default.temporaryDirectory.appendingPathComponent("analytics-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: chart) }
        let arguments = [Self.example, "--redis-url", server.url, "--consumer", "test", "--chart", chart.path]

        // The group at "now": what came before (accounts, friends, the group's notices) is not read.
        let created = try Python.run(arguments + ["--start", "now", "--create-only"])
        #expect(created.status == 0, "\(created.output)")

        var sent: [(from: Account, chat: String, to: Int, time: Int64)] = []
        func send(_ from: Account, _ chat: String, _ to: Int, _ text: String) throws -> [String: Any] {
            let message = try traffic.send(from, to: to, chatType: chat, type: "text", data: text)
            sent.append((from, chat, to, (message["create_time"] as? NSNumber)?.int64Value ?? 0))
            return message
        }
        let revokedSingle = try send(a, "single", b.id, "一")
        for text in ["二", "三"] { _ = try send(a, "single", b.id, text) }
        _ = try send(b, "single", a.id, "四")
        for text in ["五", "六"] { _ = try send(a, "group", group, text) }
        var revokedGroup: [String: Any] = [:]
        for index in 0..<4 { let message = try send(b, "group", group, "七\(index)"); if index == 0 { revokedGroup = message } }
        _ = try send(c, "group", group, "八")
        try traffic.revoke(a, revokedSingle, chatType: "single", to: b.id)
        try traffic.revoke(b, revokedGroup, chatType: "group", to: group)

        let run = try Python.run(arguments + ["--start", "now"])
        #expect(run.status == 0, "\(run.output)")
        let expected = Self.expectedReport(
            sent: sent, names: [a.id: "阿甲", b.id: b.username, c.id: c.username], group: (group, groupName), chart: chart.path
        )
        // The report ends the output (a library's warning may come before it).
        #expect(run.output.hasSuffix(expected), "printed:\n\(run.output)\nexpected:\n\(expected)")

        let png = try Data(contentsOf: chart)
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "a PNG signature")
        #expect(png.count > 10_000, "a chart, not an empty image: \(png.count) bytes")
        #expect(String(decoding: png[12..<16], as: UTF8.self) == "IHDR")
        let size = png[16..<24].map { Int($0) }
        #expect((size[0] << 24 | size[1] << 16 | size[2] << 8 | size[3], size[4] << 24 | size[5] << 16 | size[6] << 8 | size[7]) == (1100, 450), "the chart's 11 × 4.5 in at 100 dpi")

        // Acknowledged: nothing pending, and a second run reads nothing new.
        let unused = chart.deletingPathExtension().appendingPathExtension("again.png")
        let again = try Python.run([Self.example, "--redis-url", server.url, "--consumer", "test", "--chart", unused.path])
        #expect(again.status == 0 && again.output.hasSuffix("read 0 entries (0 messages, 0 revokes), acknowledged 0\nchart: none (nothing read)\n"), "\(again.output)")
        #expect(!FileManager.default.fileExists(atPath: unused.path))
        // on every shard of the run's layout
        let pending = try Python.run(["-c", """
            import redis, sys
            r = redis.Redis.from_url(sys.argv[1])
            print(sum(r.xpending(shard, 'analytics-example')['pending'] for shard in sys.argv[2:]))
            """, server.url] + testKeys.shards(of: StreamName.messages))
        #expect(pending.output == "0\n", "\(pending.output)")
    }

    /// The example's report for `sent` (single and group, by minute of their stored time),
    /// the two revokes, as `analytics.py` prints it.
    static func expectedReport(sent: [(from: Account, chat: String, to: Int, time: Int64)], names: [Int: String], group: (id: Int, name: String), chart: String) -> String {
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        var minutes: [String: (single: Int, group: Int)] = [:]
        var senders: [Int: Int] = [:]
        for message in sent {
            let minute = formatter.string(from: Date(timeIntervalSince1970: Double(message.time) / 1000))
            var counts = minutes[minute] ?? (0, 0)
            if message.chat == "single" { counts.single += 1 } else { counts.group += 1 }
            minutes[minute] = counts
            senders[message.from.id, default: 0] += 1
        }
        var lines = ["messages per minute (UTC)", pad("minute", 18) + lpad("single", 8) + lpad("group", 8) + lpad("total", 8)]
        for minute in minutes.keys.sorted() {
            let counts = minutes[minute]!
            lines.append(pad(minute, 18) + lpad(counts.single, 8) + lpad(counts.group, 8) + lpad(counts.single + counts.group, 8))
        }
        lines += ["", "most active senders", pad("sender", 10) + lpad("messages", 8) + "  name"]
        for (id, count) in senders.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            lines.append(pad(String(id), 10) + lpad(count, 8) + "  " + (names[id] ?? ""))
        }
        let groupCount = sent.filter { $0.chat == "group" }.count
        lines += ["", "most active groups", pad("group", 10) + lpad("messages", 8) + "  name"]
        lines.append(pad(String(group.id), 10) + lpad(groupCount, 8) + "  " + group.name)
        lines += ["", "revokes: 2 (single 1, group 1)"]
        lines.append("read \(sent.count + 2) entries (\(sent.count) messages, 2 revokes), acknowledged \(sent.count + 2)")
        lines.append("chart: \(chart)")
        return lines.joined(separator: "\n") + "\n"
    }

    static func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
    static func lpad(_ value: some CustomStringConvertible, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - value.description.count)) + value.description
    }

    static func validate(_ stream: String, _ fields: [String: String]) throws -> (status: Int32, output: String) {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: fields), as: UTF8.self)
        return try Python.run([validator, "--entry", stream, json])
    }

    /// A `redis-cli --json XRANGE` dump's entries as field → value.
    static func entries(_ file: URL) throws -> [[String: String]] {
        let list = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [[Any]])
        return list.map { entry in
            let flat = entry.count > 1 ? (entry[1] as? [String] ?? []) : []
            var fields: [String: String] = [:]
            for index in stride(from: 0, to: flat.count - 1, by: 2) { fields[flat[index]] = flat[index + 1] }
            return fields
        }
    }
}

/// Requests of the workload, through a real bridge's HTTP API (docs/api.md).
struct Traffic {
    typealias Account = StreamContractTests.Account
    let bridge: BridgeProcess

    @discardableResult
    func ok(_ path: String, _ body: [String: Any], _ account: Account, sourceLocation: SourceLocation = #_sourceLocation) throws -> Any? {
        let response = try bridge.post(path, body, token: account.token)
        let accepted = response.status == 200 && (response.body["msg"] as? String == "ok" || response.body["code"] as? Int == 200
            || response.body["msg"] as? String == "投诉提交成功")
        #expect(accepted, "\(path): \(response.status) \(String(describing: response.body).prefix(300))", sourceLocation: sourceLocation)
        return response.body["data"]
    }

    func get(_ path: String, _ account: Account) throws -> Any? {
        let response = HTTPProbe.request(port: bridge.port, method: "GET", path: path, headers: [("token", account.token)])
        let body = (try? JSONSerialization.jsonObject(with: Data((response?.body ?? "").utf8))) as? [String: Any]
        return body?["data"]
    }

    /// Sends a message; answers the message object.
    @discardableResult
    func send(_ from: Account, to: Int, chatType: String = "single", type: String, data: Any) throws -> [String: Any] {
        try #require(try ok("/api/chat/socket/sendmessage", ["sendto_id": to, "chatType": chatType, "type": type, "data": data], from) as? [String: Any])
    }

    func revoke(_ account: Account, _ message: [String: Any], chatType: String, to: Int) throws {
        try ok("/api/chat/revokeMessage", [
            "to_id": to, "to_name": "someone", "to_avatar": "https://a.example/avatar.png", "id": message["id"] ?? "",
            "chatType": chatType, "create_time": message["create_time"] ?? 0,
        ], account)
    }

    func befriend(_ from: Account, _ to: Account) throws {
        try ok("/api/chat/autoAddFriendAndAgree", ["friend_id": to.id], from)
    }

    func friendRow(_ me: Account, _ friend: Account) throws -> Int {
        let row = try #require(try ok("/api/chat/ismygoodfriend/\(friend.id)", [:], me) as? [String: Any])
        return try #require(row["id"] as? Int)
    }

    /// A group of `owner` and `members` (friends of the owner); its id and name.
    func group(owner: Account, members: [Account]) throws -> (id: Int, name: String) {
        try ok("/api/chat/group/create", ["userIds": try members.map { try friendRow(owner, $0) }], owner)
        let groups = try #require(try get("/api/chat/grouplist/1", owner) as? [[String: Any]])
        return (try #require(groups.first?["id"] as? Int), try #require(groups.first?["name"] as? String))
    }

    /// Every kind of entry: accounts, a profile change, a request and its answer, friends,
    /// a block and its lifting, a star, a group with a rename and a member's nickname,
    /// messages of each type in both chats, revokes in both, a complaint, Q&A created,
    /// changed and deleted, a friendship deleted, a member leaving, a group dissolved.
    func everyKind() throws {
        let (a, b, c) = try (bridge.register(), bridge.register(), bridge.register())
        try ok("/api/chat/updateUserinfo", ["fieldname": "nickname", "fieldValue": "阿甲"], a)
        try ok("/api/chat/applyfriend", ["friend_id": b.id, "nickname": "乙"], a)
        let requests = try #require(try get("/api/chat/listapplyfriend/1", b) as? [String: Any])
        let request = try #require((requests["alldata"] as? [[String: Any]])?.first?["id"] as? Int)
        try ok("/api/chat/handleapply/\(request)", ["status": "agree", "nickname": "甲"], b)
        try befriend(c, a)
        try ok("/api/chat/setblackgoodfriend/\(c.id)", [:], a)
        try ok("/api/chat/setblackgoodfriend/\(c.id)", [:], a)
        try ok("/api/chat/setstargoodfriend/\(b.id)", [:], a)
        let group = try group(owner: a, members: [b, c]).id
        try ok("/api/chat/groupUpdateName", ["id": group, "name": "读书会"], a)
        try ok("/api/chat/groupnickname", ["id": group, "nickname": "小乙"], b)

        let single = try send(a, to: b.id, type: "text", data: "你好")
        try send(a, to: b.id, type: "text", data: ["data": "对象形式", "dataType": false, "otherData": NSNull()])
        for type in ["image", "audio", "video", "iconMenus"] { _ = try send(a, to: b.id, type: type, data: "https://a.example/\(type)") }
        let inGroup = try send(b, to: group, chatType: "group", type: "text", data: "大家好")
        try send(c, to: group, chatType: "group", type: "image", data: "https://a.example/g.png")
        try revoke(a, single, chatType: "single", to: b.id)
        try revoke(b, inGroup, chatType: "group", to: group)

        try ok("/api/chat/complaint/create", ["target_id": b.id, "target_type": "single", "reason": "广告", "content": "内容"], a)
        let asked = try #require(try ok("/api/chat/askanswer/create", ["ask": "几点上课", "answer": "八点", "type": "course"], a) as? [String: Any])
        let askID = try #require(asked["id"] as? Int)
        try ok("/api/chat/askanswer/update", ["id": askID, "answer": "九点"], a)
        try ok("/api/chat/askanswer/delete", ["id": askID], a)
        try ok("/api/chat/deletegoodfriend/\(c.id)", [:], a)
        try ok("/api/chat/groupDeleteOrQuit", ["id": group], c)
        try ok("/api/chat/groupDeleteOrQuit", ["id": group], a)
    }
}

/// Runs python3 (`TEST_PYTHON` from `make test`, else the PATH's) to completion.
enum Python {
    static func run(_ arguments: [String], timeout: Double = 120) throws -> (status: Int32, output: String) {
        let environment = ProcessInfo.processInfo.environment
        var python = environment["TEST_PYTHON"] ?? ""
        if python.isEmpty {
            python = (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/python3" }
                .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/python3"
        }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("python-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let child = try ChildProcess(executable: python, arguments: arguments, environment: environment, output: log.path)
        guard let status = child.waitForExit(timeout: timeout) else {
            child.terminate(signal: SIGKILL)
            throw TestEnvironment.Missing(description: "python3 \(arguments.first ?? "") did not exit within \(timeout) s")
        }
        return (Executables.exitCode(status), (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }
}
