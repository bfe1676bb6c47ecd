import Crypto
import Foundation
import MariaDB
import Model
@testable import Persister
import RedisClient
import Testing
import TestSupport

/// The limits table (`StoredLimits`) end to end: a real bridge and a real persister on a Redis
/// of the test's own and a migrated database. Every column of every table is either fed by
/// a limit of the table, whose largest accepted value goes bridge → Redis → persister →
/// MariaDB unchanged and whose one-more is refused with its text, or is named below as not
/// sized by a client. Accepted means persisted: no dead letter.
@Suite("limits table", .serialized, .offCooperativePool)
struct StoredLimitsTests {
    /// Columns whose values no client sizes: ids, flags, times, enums, hashes, values the
    /// bridge composes from fixed texts, and columns the bridge never writes.
    static let notSizedByClients: [String: String] = {
        var columns: [String: String] = [:]
        let bookkeeping = ["id", "order", "create_time", "update_time", "version", "status"]
        for table in [
            "user", "user_info", "goodfriend", "goodfriendapply", "group", "group_user", "chat_complaint", "askanswer", "user_block",
            "chat_admin", "admin_audit",
        ] {
            for column in bookkeeping { columns["\(table).\(column)"] = "set by the bridge" }
        }
        for column in [
            "user.uuid", "user.password", "user.devicefingeruuid_key", "user.invite_confirm", "user.last_login", "user.register_time",
            "user.is_deleted", "user.role", "user_info.user_id", "user_info.gender", "user_info.birthday",
            "goodfriend.user_id", "goodfriend.friend_id", "goodfriend.friendlookme", "goodfriend.melookfriend",
            "goodfriend.ismystarfriend", "goodfriend.isblack", "goodfriendapply.user_id", "goodfriendapply.friend_id",
            "goodfriendapply.friendlookme", "goodfriendapply.melookfriend", "goodfriendapply.ismystarfriend", "goodfriendapply.isblack",
            "group.uuid", "group.user_id", "group.invite_confirm", "group_user.group_id", "group_user.user_id",
            "chat_complaint.user_id", "chat_complaint.target_id", "chat_complaint.target_type", "chat_complaint.is_deleted",
            "askanswer.user_id", "user_block.user_id", "user_block.blocked_id", "message.id", "message.chat_type", "message.from_id", "message.to_id", "message.create_time",
            "message.isremove", "message.version",
            "entity_tombstone.entity", "entity_tombstone.id", "entity_tombstone.version", "entity_tombstone.deleted_at",
            "schema_migrations.version", "schema_migrations.name", "schema_migrations.applied_at",
            "chat_admin.password", "admin_audit.target_id",
        ] {
            columns[column] = "fixed size, set by the bridge or the persister (an id, flag, time, enum, uuid or hash)"
        }
        for column in [
            "user.mobile", "user.email", "user.last_login_ip", "user.register_ip", "user.wechat_openid", "user.qq_openid",
            "user.weibo_uid", "user.is_email_verified", "user.is_mobile_verified",
        ] {
            columns[column] = "never written by the bridge (the old system's columns, kept for imports)"
        }
        for column in ["user_info.bio", "user_info.location", "user_info.website"] {
            columns[column] = "written empty at registration; no endpoint changes it"
        }
        columns["group_user.avatar"] = "written empty; no endpoint sets a member's group avatar"
        return columns
    }()

    @Test("every column is sized by the limits table or named as not sized by clients; the largest accepted value of each limit is persisted exactly and one more is refused")
    func everyColumnWalked() async throws {
        try await DrainFixture.with(prefix: "limits") { fixture in
            let walk = try await Walk(fixture: fixture)
            let connection = try fixture.database.connect()

            // The schema: every column known, every limit within its column.
            let columns = try connection.query("""
                SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS
                WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION
                """)
            var types: [String: String] = [:]
            for row in columns {
                let key = "\(row[0] ?? "").\(row[1] ?? "")"
                types[key] = row[2] ?? ""
                let limited = (StoredLimits.all + StoredLimits.console).contains { "\($0.table).\($0.column)" == key }
                #expect(limited || Self.notSizedByClients[key] != nil, "column \(key) is neither in StoredLimits nor known as not sized by clients")
            }
            #expect(types.count > 100, "the walk read the schema (\(types.count) columns)")
            for limit in StoredLimits.all + StoredLimits.console {
                let type = try #require(types["\(limit.table).\(limit.column)"].flatMap(ColumnType.init(columnType:)), "\(limit)")
                #expect(type.holds(limit.type), "the schema's \(type) holds \(limit)")
                #expect(limit.fitsColumn, "\(limit) fits its column")
            }

            try await walk.run()

            // Every limit exercised, nothing dead-lettered, nothing left pending.
            for limit in StoredLimits.all {
                #expect(walk.exercised.contains(limit), "no request of the walk reached \(limit)")
            }
            try await eventually(within: 30) { try await fixture.drained() }
            #expect(try await fixture.redis.send("XLEN", "chat:stream:deadletter").integer == 0)
        }
    }

    @Test("the over-long values of issue 17: a 200 KB userset is refused; nine 1,000-character avatars make a group avatar that is persisted, and so is a message to the group")
    func issueSeventeenThirdRow() async throws {
        try await DrainFixture.with(prefix: "limits17") { fixture in
            let walk = try await Walk(fixture: fixture)
            let owner = try walk.bridge.register()
            let userset = #"{"chatset":{"user":{"sendCount":2}},"pad":""# + String(repeating: "a", count: 200_000) + #""}"#
            try walk.expectRefused("/api/chat/userset", ["userset": userset], owner, StoredLimits.User.userset.refusal("userset"))
            let metrics = HTTPProbe.get(port: walk.bridge.metricsPort, path: "/metrics")?.body ?? ""
            #expect(metrics.contains(#"chat_limit_refusals_total{column="user.userset"} 1"#), "the refusal is counted")
            let (group, avatars) = try await walk.groupOfNine(owner: owner)
            let stored = try await walk.persisted("SELECT avatar FROM `group` WHERE id = \(group)") { $0.count == StoredLimits.Group.avatar.maximum }
            #expect(Set(stored.split(separator: ",").map(String.init)) == Set(avatars))
            let message = try walk.send(owner, to: group, chatType: "group", type: "text", data: "你好")
            _ = try await walk.persisted("SELECT to_avatar FROM message WHERE id = '\(message)'") { $0 == stored }
            try await eventually(within: 30) { try await fixture.drained() }
            #expect(try await fixture.redis.send("XLEN", "chat:stream:deadletter").integer == 0)
        }
    }
}

/// One walk's processes, accounts and bookkeeping.
final class Walk: @unchecked Sendable {
    let fixture: DrainFixture
    let bridge: BridgeProcess
    let persister: PersisterProcess
    /// The limits a request of the walk has taken to its maximum and one past it.
    private(set) var exercised: [ColumnLimit] = []
    typealias Account = (id: Int, token: String, username: String)

    init(fixture: DrainFixture) async throws {
        self.fixture = fixture
        bridge = try await BridgeProcess(redisURL: fixture.redisServer.url)
        persister = try fixture.persister()
    }

    // MARK: Values

    /// `count` UTF-16 units of CJK (three bytes each), ending with `tag` (ASCII).
    static func characters(_ count: Int, tag: String = "") -> String {
        String(repeating: "名", count: count - tag.utf16.count) + tag
    }

    /// Exactly `count` bytes of UTF-8, CJK and ASCII mixed, no character JSON escapes.
    static func bytes(_ count: Int) -> String {
        let wide = count / 6
        return String(repeating: "设", count: wide) + String(repeating: "a", count: count - wide * 3)
    }

    /// A JSON object text of exactly `count` bytes.
    static func jsonObject(bytes count: Int) -> String {
        #"{"p":""# + bytes(count - 8) + #""}"#
    }

    static func tag() -> String { String(UUID().uuidString.prefix(8)).lowercased() }

    // MARK: Requests

    /// `ok(data)`'s data; fails the test otherwise.
    @discardableResult
    func ok(_ path: String, _ body: [String: Any], _ account: Account?, headers: [(String, String)] = []) throws -> Any? {
        let response = try bridge.post(path, body, token: account?.token, headers: headers)
        #expect(response.status == 200 && response.body["msg"] as? String == "ok", "\(path): \(response.status) \(String(describing: response.body).prefix(300))")
        return response.body["data"]
    }

    /// The refusal text of a request answered `fail(text)`, `{msg:text}` (complaints) or
    /// `{code:400, msg:text}` (Q&A).
    func expectRefused(_ path: String, _ body: [String: Any], _ account: Account?, _ text: String, headers: [(String, String)] = []) throws {
        let response = try bridge.post(path, body, token: account?.token, headers: headers)
        let answer = (response.body["code"] as? Int == 400 || path.contains("complaint")) ? response.body["msg"] : response.body["data"]
        #expect(answer as? String == text, "\(path) refused with \(text): \(response.status) \(String(describing: response.body).prefix(300))")
    }

    /// Waits until `sql`'s first value satisfies `check`; answers it.
    @discardableResult
    func persisted(_ sql: String, sourceLocation: SourceLocation = #_sourceLocation, _ check: (String) -> Bool) async throws -> String {
        var last: String?
        do {
            try await eventually(within: 30) {
                last = try self.fixture.database.connect().query(sql).first?[0] ?? nil
                return last.map(check) ?? false
            }
        } catch {
            Issue.record("\(sql): never persisted as expected; last \(last.map { String($0.prefix(120)) + "… (\($0.count) characters)" } ?? "nil")", sourceLocation: sourceLocation)
        }
        return last ?? ""
    }

    /// The largest accepted value persisted as sent, one more refused with the limit's text.
    func expectLimit(
        _ limit: ColumnLimit, sql: String, value: String, sourceLocation: SourceLocation = #_sourceLocation,
        accept: (String) throws -> Void, refuse: (String) throws -> Void, over: () -> String
    ) async throws {
        let size = limit.unit == .characters ? value.utf16.count : value.utf8.count
        #expect(size == limit.maximum, "\(limit): the walk's value has \(size)", sourceLocation: sourceLocation)
        try accept(value)
        try await persisted(sql, sourceLocation: sourceLocation) { $0 == value }
        let larger = over()
        let largerSize = limit.unit == .characters ? larger.utf16.count : larger.utf8.count
        #expect(largerSize > limit.maximum, "\(limit): one more has \(largerSize)", sourceLocation: sourceLocation)
        try refuse(larger)
        exercised.append(limit)
    }

    func updateUser(_ account: Account, _ field: String, _ value: String) throws {
        try ok("/api/chat/updateUserinfo", ["fieldname": field, "fieldValue": value], account)
    }

    /// Sends a message; answers its id.
    func send(_ from: Account, to: Int, chatType: String = "single", type: String, data: String, options: [String: Any]? = nil) throws -> String {
        var body: [String: Any] = ["sendto_id": to, "chatType": chatType, "type": type, "data": data]
        if let options { body["options"] = options }
        let message = try #require(try ok("/api/chat/socket/sendmessage", body, from) as? [String: Any])
        return try #require(message["id"] as? String)
    }

    /// `from` and `to` friends at once (`autoAddFriendAndAgree`, `to` confirms nobody).
    func befriend(_ from: Account, _ to: Account, remark: String = "") throws {
        var body: [String: Any] = ["friend_id": to.id]
        if !remark.isEmpty { body["nickname"] = remark }
        try ok("/api/chat/autoAddFriendAndAgree", body, from)
    }

    /// My goodfriend row id for `friend`.
    func friendRow(_ me: Account, _ friend: Account) throws -> Int {
        let row = try #require(try ok("/api/chat/ismygoodfriend/\(friend.id)", [:], me) as? [String: Any])
        return try #require(row["id"] as? Int)
    }

    /// A group of `owner` and eight friends, every one with a 1,000-character avatar: its id
    /// and the nine avatars.
    func groupOfNine(owner: Account, nickname: (Int) -> String? = { _ in nil }) async throws -> (Int, [String]) {
        let avatarLength = StoredLimits.User.avatar.maximum
        var members = [owner]
        for _ in 1..<StoredLimits.Group.avatarMembers { members.append(try bridge.register()) }
        var avatars: [String] = []
        for (index, member) in members.enumerated() {
            let avatar = "https://a.example/" + Self.characters(avatarLength - 18, tag: "\(index)-" + Self.tag())
            try updateUser(member, "avatar", avatar)
            if let name = nickname(index) { try updateUser(member, "nickname", name) }
            avatars.append(avatar)
        }
        var rows: [Int] = []
        for member in members.dropFirst() {
            try befriend(member, owner)
            rows.append(try friendRow(owner, member))
        }
        try ok("/api/chat/group/create", ["userIds": rows], owner)
        let id = try await persisted("SELECT id FROM `group` WHERE user_id = \(owner.id)") { !$0.isEmpty }
        return (try #require(Int(id)), avatars)
    }

    // MARK: The walk

    func run() async throws {
        try await users()
        try await visitor()
        let (a, b) = try await friends()
        try await groupsAndMessages(a, b)
        try await complaints(a, b)
        try await askAnswers(a)
    }

    private func users() async throws {
        let limits = StoredLimits.User.self
        // username: at registration.
        let username = Self.characters(limits.username.maximum, tag: Self.tag())
        let user = try bridge.register(username)
        try await expectLimit(limits.username, sql: "SELECT username FROM user WHERE id = \(user.id)", value: username, accept: { _ in }) {
            try self.expectRefused("/api/regChat", ["username": $0, "password": "secret1"], nil, "参数username长度应在4-\(limits.username.maximum)之间")
        } over: { Self.characters(limits.username.maximum + 1, tag: Self.tag()) }
        // nickname, avatar: updateUserinfo, with their own texts.
        try await expectLimit(
            limits.nickname, sql: "SELECT nickname FROM user WHERE id = \(user.id)", value: Self.characters(limits.nickname.maximum),
            accept: { try self.updateUser(user, "nickname", $0) }
        ) {
            try self.expectRefused("/api/chat/updateUserinfo", ["fieldname": "nickname", "fieldValue": $0], user, "昵称长度不能超过\(limits.nickname.maximum)个字符")
        } over: { Self.characters(limits.nickname.maximum + 1) }
        try await expectLimit(
            limits.avatar, sql: "SELECT avatar FROM user WHERE id = \(user.id)", value: "https://" + Self.characters(limits.avatar.maximum - 8),
            accept: { try self.updateUser(user, "avatar", $0) }
        ) {
            try self.expectRefused("/api/chat/updateUserinfo", ["fieldname": "avatar", "fieldValue": $0], user, "头像地址过长不能超过\(limits.avatar.maximum)个字符")
        } over: { "https://" + Self.characters(limits.avatar.maximum - 7) }
        // userset: bytes.
        try await expectLimit(
            limits.userset, sql: "SELECT userset FROM user WHERE id = \(user.id)", value: Self.jsonObject(bytes: limits.userset.maximum),
            accept: { try self.ok("/api/chat/userset", ["userset": $0], user) }
        ) {
            try self.expectRefused("/api/chat/userset", ["userset": $0], user, limits.userset.refusal("userset"))
        } over: { Self.jsonObject(bytes: limits.userset.maximum + 1) }
    }

    /// The device fields of `visitorRegister`. A device id must be `^[\w-]{36}$` besides its
    /// 36–200 characters, so 36 is the largest accepted (`无效标识` beyond).
    private func visitor() async throws {
        let limits = StoredLimits.User.self
        let device = UUID().uuidString.lowercased()
        func call(_ fields: [String: String], device: String = device) throws -> (status: Int, body: [String: Any]) {
            let timestamp = String(Int64(Date().timeIntervalSince1970 * 1000))
            var body: [String: Any] = ["deviceId": device, "timestamp": timestamp]
            for (key, value) in fields { body[key] = value }
            let text = "deviceId=\(device)&salt=45ncashdaksh2!#@3nxjdas*_259&timestamp=\(timestamp)APP_SECRET"
            let sign = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
            return try bridge.post("/api/visitorRegister", body, headers: [("X-Security-Sign", sign)])
        }
        let fields = [
            ("uniplatform", limits.uniplatform, 2), ("devicemodel", limits.devicemodel, 1), ("deviceos", limits.deviceos, 1),
            ("devicebrand", limits.devicebrand, 1),
        ]
        var values: [String: String] = [:]
        for (name, limit, _) in fields { values[name] = Self.characters(limit.maximum, tag: name.prefix(2).lowercased()) }
        let answer = try call(values)
        #expect(answer.status == 200 && answer.body["msg"] as? String == "ok", "visitorRegister: \(answer)")
        for (name, limit, minimum) in fields {
            try await expectLimit(
                limit, sql: "SELECT \(name) FROM user WHERE devicefingeruuid = '\(device)'", value: values[name] ?? "", accept: { _ in }
            ) { over in
                var fields = values
                fields[name] = over
                let refusal = try call(fields)
                #expect(refusal.body["data"] as? String == "参数\(name)长度应在\(minimum)-\(limit.maximum)之间", "\(name): \(refusal)")
            } over: { Self.characters(limit.maximum + 1) }
        }
        _ = try await persisted("SELECT devicefingeruuid FROM user WHERE devicefingeruuid = '\(device)'") { $0 == device }
        #expect(try call([:], device: device + "a").body["data"] as? String == "无效标识")
        let tooLong = String(repeating: "d", count: limits.deviceID.maximum + 1)
        #expect(try call([:], device: tooLong).body["data"] as? String == "参数deviceId长度应在36-\(limits.deviceID.maximum)之间")
        let longest = String(repeating: "d", count: limits.deviceID.maximum)
        #expect(try call([:], device: longest).body["data"] as? String == "无效标识")
        exercised.append(limits.deviceID)
    }

    /// A applies to B with the longest remark; B agrees, giving A the longest remark.
    private func friends() async throws -> (Account, Account) {
        let limits = StoredLimits.Friend.self
        let a = try bridge.register(), b = try bridge.register()
        let remarkText = "参数nickname长度应在1-\(limits.remark.maximum)之间"
        try await expectLimit(
            limits.requestRemark, sql: "SELECT nickname FROM goodfriendapply WHERE user_id = \(a.id) AND friend_id = \(b.id)",
            value: Self.characters(limits.requestRemark.maximum),
            accept: { try self.ok("/api/chat/applyfriend", ["friend_id": b.id, "nickname": $0], a) }
        ) {
            try self.expectRefused("/api/chat/applyfriend", ["friend_id": b.id, "nickname": $0], a, remarkText)
        } over: { Self.characters(limits.requestRemark.maximum + 1) }
        let request = try await persisted("SELECT id FROM goodfriendapply WHERE user_id = \(a.id) AND friend_id = \(b.id)") { !$0.isEmpty }
        // B agrees: B's row for A carries B's remark.
        let longer = Self.characters(limits.remark.maximum + 1)
        try expectRefused("/api/chat/handleapply/\(request)", ["status": "agree", "nickname": longer], b, remarkText)
        try expectRefused("/api/chat/autoAddFriendAndAgree", ["friend_id": a.id, "nickname": longer], b, remarkText)
        try await expectLimit(
            limits.remark, sql: "SELECT nickname FROM goodfriend WHERE user_id = \(b.id) AND friend_id = \(a.id)",
            value: Self.characters(limits.remark.maximum, tag: "r"),
            accept: { try self.ok("/api/chat/handleapply/\(request)", ["status": "agree", "nickname": $0], b) }
        ) {
            try self.expectRefused("/api/chat/handleapply/\(request)", ["status": "agree", "nickname": $0], b, remarkText)
        } over: { longer }
        return (a, b)
    }

    private func groupsAndMessages(_ a: Account, _ b: Account) async throws {
        let limits = StoredLimits.Group.self
        let message = StoredLimits.Message.self
        // Nine members with the longest avatars and nicknames: the composed avatar and name.
        let (group, _) = try await groupOfNine(owner: a) { Self.characters(StoredLimits.User.nickname.maximum, tag: "\($0)") }
        let avatar = try await persisted("SELECT avatar FROM `group` WHERE id = \(group)") { $0.count == limits.avatar.maximum }
        exercised.append(limits.avatar)
        let name = try await persisted("SELECT name FROM `group` WHERE id = \(group)") { $0.utf16.count == limits.derivedName.maximum }
        exercised.append(limits.derivedName)

        // A group message carries them, and the sender's avatar.
        let groupMessage = try send(a, to: group, chatType: "group", type: "text", data: "群")
        try await persisted("SELECT to_avatar FROM message WHERE id = '\(groupMessage)'") { $0 == avatar }
        try await persisted("SELECT to_name FROM message WHERE id = '\(groupMessage)'") { $0 == name }
        exercised.append(message.toAvatar)
        exercised.append(message.toName)

        try await expectLimit(
            limits.name, sql: "SELECT name FROM `group` WHERE id = \(group)", value: Self.characters(limits.name.maximum),
            accept: { try self.ok("/api/chat/groupUpdateName", ["id": group, "name": $0], a) }
        ) {
            try self.expectRefused("/api/chat/groupUpdateName", ["id": group, "name": $0], a, "参数name长度应在1-\(limits.name.maximum)之间")
        } over: { Self.characters(limits.name.maximum + 1) }
        try await expectLimit(
            limits.remark, sql: "SELECT remark FROM `group` WHERE id = \(group)", value: Self.characters(limits.remark.maximum),
            accept: { try self.ok("/api/chat/groupremark", ["id": group, "remark": $0], a) }
        ) {
            try self.expectRefused("/api/chat/groupremark", ["id": group, "remark": $0], a, "参数remark长度应在1-\(limits.remark.maximum)之间")
        } over: { Self.characters(limits.remark.maximum + 1) }
        try await expectLimit(
            limits.nickname, sql: "SELECT nickname FROM group_user WHERE group_id = \(group) AND user_id = \(a.id)",
            value: Self.characters(limits.nickname.maximum),
            accept: { try self.ok("/api/chat/groupnickname", ["id": group, "nickname": $0], a) }
        ) {
            try self.expectRefused("/api/chat/groupnickname", ["id": group, "nickname": $0], a, "参数nickname长度应在1-\(limits.nickname.maximum)之间")
        } over: { Self.characters(limits.nickname.maximum + 1) }

        // A text from A to B, with the longest `data` and `options`.
        let textData = Self.bytes(message.textData.maximum - 2)
        let options = ["p": Self.bytes(message.options.maximum - 8)]
        let textID = try send(a, to: b.id, type: "text", data: textData, options: options)
        try await persisted("SELECT data FROM message WHERE id = '\(textID)'") { $0 == "\"" + textData + "\"" }
        exercised.append(message.textData)
        try expectRefused(
            "/api/chat/socket/sendmessage", ["sendto_id": b.id, "chatType": "single", "type": "text", "data": textData + "a"], a,
            message.textData.refusal("data")
        )
        try await persisted("SELECT options FROM message WHERE id = '\(textID)'") { $0 == #"{"p":""# + options["p"]! + #""}"# }
        exercised.append(message.options)
        try expectRefused(
            "/api/chat/socket/sendmessage",
            ["sendto_id": b.id, "chatType": "single", "type": "text", "data": "x", "options": ["p": options["p"]! + "a"]], a,
            message.options.refusal("options")
        )
        // from_name: B's remark for A (the longest); from_avatar: A's longest avatar.
        try await persisted("SELECT from_name FROM message WHERE id = '\(textID)'") { $0.utf16.count == message.fromName.maximum }
        exercised.append(message.fromName)
        try await persisted("SELECT from_avatar FROM message WHERE id = '\(textID)'") { $0.count == message.fromAvatar.maximum }
        exercised.append(message.fromAvatar)

        // Any other type: a smaller `data`; the longest `type`.
        let imageData = Self.bytes(message.otherData.maximum - 2)
        let imageID = try send(a, to: b.id, type: "image", data: imageData)
        try await persisted("SELECT data FROM message WHERE id = '\(imageID)'") { $0 == "\"" + imageData + "\"" }
        exercised.append(message.otherData)
        try expectRefused(
            "/api/chat/socket/sendmessage", ["sendto_id": b.id, "chatType": "single", "type": "image", "data": imageData + "a"], a,
            message.otherData.refusal("data")
        )
        let longType = String(repeating: "t", count: message.type.maximum)
        let typedID = try send(a, to: b.id, type: longType, data: "x")
        try await persisted("SELECT type FROM message WHERE id = '\(typedID)'") { $0 == longType }
        exercised.append(message.type)
        try expectRefused(
            "/api/chat/socket/sendmessage", ["sendto_id": b.id, "chatType": "single", "type": longType + "t", "data": "x"], a,
            "参数type长度应在1-\(message.type.maximum)之间"
        )
    }

    private func complaints(_ a: Account, _ b: Account) async throws {
        let limits = StoredLimits.Complaint.self
        let texts = [
            ("target_name", limits.targetName, Self.characters(limits.targetName.maximum)),
            ("reason", limits.reason, Self.characters(limits.reason.maximum)),
            ("content", limits.content, Self.bytes(limits.content.maximum)),
            ("images", limits.images, Self.bytes(limits.images.maximum)),
            ("complaint_chatinfo", limits.chatInfo, Self.bytes(limits.chatInfo.maximum)),
        ]
        var body: [String: Any] = ["target_id": b.id, "target_type": "single"]
        for (name, _, value) in texts { body[name] = value }
        let response = try bridge.post("/api/chat/complaint/create", body, token: a.token)
        let id = try #require((response.body["data"] as? [String: Any])?["id"] as? Int, "\(response.status) \(response.body["msg"] ?? "")")
        for (name, limit, value) in texts {
            try await persisted("SELECT \(name) FROM chat_complaint WHERE id = \(id)") { $0 == value }
            var over = body
            over[name] = value + "名"
            let refusal = limit.unit == .bytes ? limit.refusal(name) : "参数\(name)长度应在1-\(limit.maximum)之间"
            try expectRefused("/api/chat/complaint/create", over, a, refusal)
            exercised.append(limit)
        }
    }

    private func askAnswers(_ a: Account) async throws {
        let limits = StoredLimits.AskAnswer.self
        let ask = Self.characters(limits.ask.maximum), answer = Self.bytes(limits.answer.maximum)
        let type = Self.characters(limits.type.maximum)
        let response = try bridge.post("/api/chat/askanswer/create", ["ask": ask, "answer": answer, "type": type], token: a.token)
        let id = try #require((response.body["data"] as? [String: Any])?["id"] as? Int, "\(response.body["msg"] ?? "")")
        for (name, limit, value) in [("ask", limits.ask, ask), ("answer", limits.answer, answer), ("type", limits.type, type)] {
            try await persisted("SELECT `\(name)` FROM askanswer WHERE id = \(id)") { $0 == value }
            var over: [String: Any] = ["ask": ask, "answer": answer, "type": type]
            over[name] = value + "名"
            let refusal = limit.unit == .bytes ? limit.refusal(name) : "参数\(name)长度应在1-\(limit.maximum)之间"
            try expectRefused("/api/chat/askanswer/create", over, a, refusal)
            exercised.append(limit)
        }
    }
}
