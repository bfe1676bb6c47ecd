import Foundation
import MariaDB
import RedisClient
import Testing
import TestSupport

/// The operators' console (docs/console.md) in a real browser: headless Chromium driven
/// by Selenium (`Browser/console_browser.py`, one function per scenario) against a real
/// `console`, real bridges and a real persister on a Redis of the test's own. The browser
/// does what an operator does; this side checks the effects: on the bridges (logins,
/// tokens, sockets), in Redis, and in MariaDB through the persister (the entity events
/// and the audit rows). Screenshots of every page: `artifacts/` of the run's folder,
/// kept with `KEEP_TMP=1` (docs/testing.md).
@Suite("operators' console in a browser", .serialized, .offCooperativePool)
struct ConsoleBrowserTests {
    typealias Account = ConsoleStack.Account

    static let tokenRefused = "Token 令牌不合法！"

    @Test("log in: a wrong password and an unknown admin refused with one text; the session cookie HttpOnly, SameSite=Strict; every page of the nav; logout ends the session; the longest admin name logs in, one more is refused", .timeLimit(.minutes(3)))
    func login() async throws {
        try await ConsoleStack.with("login") { stack in
            let result = try stack.browser("login")
            let cookie = try #require(result["cookie"] as? [String: Any])
            #expect(cookie["httpOnly"] as? Bool == true && cookie["sameSite"] as? String == "Strict", "\(cookie)")
            #expect(cookie["secure"] as? Bool == false && cookie["path"] as? String == "/", "no TLS here: \(cookie)")
            let pages = try #require(result["pages"] as? [String: String])
            #expect(pages["nav-users"] == "/users" && pages["nav-audit"] == "/audit" && pages["nav-dashboard"] == "/", "\(pages)")
            // Logged out: no session left in Redis, the old cookie opens nothing.
            #expect(try await stack.redis.send("KEYS", "chat:admin:session:*").array?.count == 0)
            let old = ConsoleProcess.Session(cookie: try #require(cookie["value"] as? String), csrf: "")
            #expect(try stack.console.request("GET", "/api/users", session: old).status == 401)
            // The admin account from the command line, in MariaDB (bcrypt) and audited as `cli`.
            let account = try await stack.persisted("SELECT name, status, password FROM chat_admin") { $0.count == 1 }
            #expect(account.first?[0] == stack.adminName && account.first?[1] == "1", "\(account)")
            #expect(account.first?[2]?.hasPrefix("$2") == true && account.first?[2]?.contains(stack.adminPassword) == false)
            try await stack.persisted(
                "SELECT admin, action, target_type FROM admin_audit WHERE action = 'admin.create'"
            ) { $0 == [["cli", "admin.create", "admin"]] }

            // The longest admin name (StoredLimits.Console.adminName) logs in on the page;
            // one character more is refused by the command line.
            let longest = "a" + String(repeating: "b", count: 62) + "c"
            try ConsoleProcess.createAdmin(longest, password: "long-name-password", redisURL: stack.consoleRedisURL)
            let longResult = try stack.browser("login", admin: (longest, "long-name-password"))
            #expect(longResult["pages"] as? [String: String] == pages)
            #expect(throws: (any Error).self) {
                try ConsoleProcess.createAdmin(longest + "d", password: "long-name-password", redisURL: stack.consoleRedisURL)
            }
            #expect(try await stack.redis.send("EXISTS", "chat:admin:\(longest)d").integer == 0)
            try await stack.persisted("SELECT name FROM chat_admin ORDER BY id") { $0 == [[stack.adminName], [longest]] }

            let rebuilt = try stack.hydrated()
            #expect(try await ConsoleStack.field("chat:admin:\(stack.adminName)", "status", in: rebuilt) == "1")
            #expect(try await ConsoleStack.field("chat:admin:\(longest)", "status", in: rebuilt) == "1")
        }
    }

    @Test("three wrong passwords lock the admin out: then the right password is refused too, on the page and the JSON API, until the lock ends", .timeLimit(.minutes(3)))
    func lockout() async throws {
        let settings = ["CONSOLE_LOGIN_FAILURES_PER_ACCOUNT": "3", "CONSOLE_LOGIN_LOCKOUT_SECONDS": "8"]
        try await ConsoleStack.with("lockout", consoleSettings: settings) { stack in
            let result = try stack.browser("lockout", ["MAX_ATTEMPTS": "10"])
            #expect(result["locked_after"] as? Int == 4, "the fourth attempt is refused as locked: \(result)")
            #expect(try await stack.redis.send("EXISTS", "chat:limit:admin:\(stack.adminName)").integer == 1)
            // Once the lock has run out (8 s after the third failure), the right password
            // opens a session.
            let login = ["username": stack.adminName, "password": stack.adminPassword]
            var answer: [String: Any] = [:]
            for _ in 0..<40 {
                answer = try stack.console.request("POST", "/api/login", json: login).json
                if answer["msg"] as? String == "ok" { break }
                #expect(answer["data"] as? String == "登录失败次数过多，请稍后再试", "\(answer)")
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(answer["msg"] as? String == "ok", "logged in once the lock ran out: \(answer)")
        }
    }

    @Test("create a user on the page, who then logs in through /api/loginChat; the row and the audit in MariaDB", .timeLimit(.minutes(3)))
    func createUser() async throws {
        try await ConsoleStack.with("create") { stack in
            let username = ConsoleStack.randomName("c")
            let nickname = "新用户" + username.suffix(4)
            let result = try stack.browser("create_user", ["NEW_USERNAME": username, "NEW_PASSWORD": "secret7", "NEW_NICKNAME": nickname])
            let id = try #require(result["id"] as? Int)
            let login = try stack.bridge.post("/api/loginChat", ["username": username, "password": "secret7"])
            let data = try #require(login.body["data"] as? [String: Any], "\(login)")
            #expect(login.status == 200 && data["id"] as? Int == id, "\(login)")
            let token = try #require(data["token"] as? String)
            #expect(try stack.bridge.post("/api/chat/chatGetmessageOffLine", token: token).status == 200)
            try await stack.persisted("SELECT username, nickname, status, is_deleted FROM user WHERE id = \(id)") {
                $0 == [[username, nickname, "1", "0"]]
            }
            let audit = try await stack.audited("user.create", target: id)
            #expect(audit.first?[2] == "user" && audit.first?[4]?.contains("secret7") == false, "no password in the audit: \(audit)")
        }
    }

    @Test("disable a user whose socket is open on the other of two bridges: force_logout and close within a second, the token refused on both; enable: log in again", .timeLimit(.minutes(3)))
    func disableAndEnable() async throws {
        try await ConsoleStack.with("disable", bridges: 2) { stack in
            let (a, b) = (stack.bridges[0], stack.bridges[1])
            let user = try a.register()
            let socket = try await Self.connected(b, user.token)
            let urls = stack.bridges.map { "http://127.0.0.1:\($0.port)" }.joined(separator: ",")

            // The time the socket ended, taken as it ends (the browser runs on meanwhile).
            async let kicked = { () async throws -> ([WebSocketTestClient.Event], Double) in
                let events = try await socket.eventsUntilEnd(within: 60)
                return (events, Date().timeIntervalSince1970 * 1000)
            }()
            let result = try stack.browser("user_status", [
                "USER_ID": "\(user.id)", "ACTION": "disable", "USER_TOKEN": user.token, "BRIDGE_URLS": urls,
            ])
            let (events, ended) = try await kicked
            let texts = events.compactMap { if case .text(let text) = $0 { text } else { nil } }
            #expect(texts.last == #"{"msg":"force_logout","data":"你的账号在其他设备登录"}"#, "\(events)")
            #expect(Array(events.suffix(2)) == [.closeFrame(code: 1000), .disconnected], "\(events)")
            let submitted = try #require(result["submitted_at_ms"] as? Double ?? (result["submitted_at_ms"] as? Int).map(Double.init))
            #expect(ended - submitted < 1000, "the socket closed \(Int(ended - submitted)) ms after the click")
            // Refused on both bridges as soon as the page confirmed.
            let answers = try #require(result["token_answers"] as? [[String: Any]])
            #expect(answers.count == 2)
            for answer in answers {
                #expect(answer["status"] as? Int == 400 && (answer["body"] as? String)?.contains(Self.tokenRefused) == true, "\(answer)")
            }
            #expect(try a.post("/api/loginChat", ["username": user.username, "password": "secret1"]).body["data"] as? String == "账号不存在或者被禁用")
            try await stack.persisted("SELECT status FROM user WHERE id = \(user.id)") { $0 == [["0"]] }
            try await stack.audited("user.disable", target: user.id)
            // A Redis rebuilt from MariaDB keeps the ban (a hand-made HSET did not).
            let rebuilt = try stack.hydrated()
            #expect(try await ConsoleStack.field("chat:user:\(user.id)", "status", in: rebuilt) == "0")

            try stack.browser("user_status", ["USER_ID": "\(user.id)", "ACTION": "enable"])
            #expect(try b.post("/api/chat/chatGetmessageOffLine", token: user.token).body["data"] as? String == Self.tokenRefused)
            let again = try a.login(user.username)
            let socketAgain = try await Self.connected(b, again.token)
            await socketAgain.close()
            try await stack.persisted("SELECT status FROM user WHERE id = \(user.id)") { $0 == [["1"]] }
            try await stack.audited("user.enable", target: user.id)
        }
    }

    @Test("delete a user: the socket kicked, logins refused, the username kept reserved; friendships stay; MariaDB keeps the row closed", .timeLimit(.minutes(3)))
    func deleteUser() async throws {
        try await ConsoleStack.with("delete") { stack in
            let user = try stack.bridge.register()
            let friend = try stack.bridge.register()
            try Self.ok(stack.bridge, "/api/chat/autoAddFriendAndAgree", ["friend_id": friend.id], user)
            let socket = try await Self.connected(stack.bridge, user.token)
            async let kicked = socket.eventsUntilEnd(within: 60)
            let result = try stack.browser("user_status", [
                "USER_ID": "\(user.id)", "ACTION": "delete", "USER_TOKEN": user.token, "BRIDGE_URLS": "http://127.0.0.1:\(stack.bridge.port)",
            ])
            let events = try await kicked
            #expect(Array(events.suffix(2)) == [.closeFrame(code: 1000), .disconnected], "\(events)")
            let answers = try #require(result["token_answers"] as? [[String: Any]])
            #expect(answers.count == 1 && (answers.first?["body"] as? String)?.contains(Self.tokenRefused) == true, "\(answers)")
            let login = try stack.bridge.post("/api/loginChat", ["username": user.username, "password": "secret1"])
            #expect(login.status != 200 && login.body["data"] as? String == "账号不存在或者被禁用", "\(login)")
            // The username stays taken, on the bridge and in the console.
            let again = try stack.bridge.post("/api/regChat", ["username": user.username, "password": "secret1"])
            #expect(again.body["data"] as? String == "该账号已存在，请换一个账号注册", "\(again)")
            let session = try stack.console.login(stack.adminName, password: stack.adminPassword)
            let create = try stack.console.request("POST", "/api/users", json: ["username": user.username, "password": "secret1"], session: session)
            #expect(create.json["msg"] as? String == "fail" && create.json["data"] as? String == "即时通讯用户账号已存在", "\(create.body)")
            try await stack.persisted("SELECT status, is_deleted FROM user WHERE id = \(user.id)") { $0 == [["0", "1"]] }
            let rebuilt = try stack.hydrated()
            #expect(try await ConsoleStack.field("chat:user:\(user.id)", "is_deleted", in: rebuilt) == "1")
            #expect(try await ConsoleStack.field("chat:user:\(user.id)", "status", in: rebuilt) == "0")
            // The friendship is the friend's record too: it stays, on both sides.
            try await stack.persisted("SELECT COUNT(*) FROM goodfriend WHERE user_id IN (\(user.id), \(friend.id))") { $0 == [["2"]] }
            try await stack.audited("user.delete", target: user.id)
        }
    }

    @Test("edit a user's nickname and reset the password: the old password refused, the new one accepted; a taken username refused", .timeLimit(.minutes(3)))
    func editAndResetPassword() async throws {
        try await ConsoleStack.with("edit") { stack in
            let user = try stack.bridge.register()
            let other = try stack.bridge.register()
            let nickname = "改名" + user.username.suffix(4)
            let result = try stack.browser("edit_user", [
                "USER_ID": "\(user.id)", "NEW_NICKNAME": nickname, "NEW_PASSWORD": "secret9", "TAKEN_USERNAME": other.username,
            ])
            #expect(result["username"] as? String == user.username)
            let old = try stack.bridge.post("/api/loginChat", ["username": user.username, "password": "secret1"])
            #expect(old.body["data"] as? String == "账户或密码错误", "\(old)")
            let new = try stack.bridge.post("/api/loginChat", ["username": user.username, "password": "secret9"])
            #expect(new.status == 200 && (new.body["data"] as? [String: Any])?["id"] as? Int == user.id, "\(new)")
            // The reset revoked the sessions of the old password.
            #expect(try stack.bridge.post("/api/chat/chatGetmessageOffLine", token: user.token).body["data"] as? String == Self.tokenRefused)
            try await stack.persisted("SELECT username, nickname FROM user WHERE id = \(user.id)") { $0 == [[user.username, nickname]] }
            try await stack.persisted("SELECT username FROM user WHERE id = \(other.id)") { $0 == [[other.username]] }
            try await stack.audited("user.edit", target: user.id)
            let reset = try await stack.audited("user.password", target: user.id)
            #expect(reset.first?[4]?.contains("secret9") == false, "no password in the audit: \(reset)")
        }
    }

    @Test("reply to a complaint on the page with the longest reply accepted; the reporter reads it through complaint/detail; MariaDB has the status and the reply; one character more refused", .timeLimit(.minutes(3)))
    func replyToComplaint() async throws {
        try await ConsoleStack.with("complaint") { stack in
            let reporter = try stack.bridge.register()
            let target = try stack.bridge.register()
            let created = try stack.bridge.post("/api/chat/complaint/create", [
                "target_id": target.id, "target_type": "single", "target_name": target.username, "reason": "骚扰信息",
                "content": "他一直给我发广告",
            ], token: reporter.token)
            let id = try #require((created.body["data"] as? [String: Any])?["id"] as? Int, "\(created)")
            // The longest reply the console accepts (StoredLimits.Console.adminReply).
            let reply = "已核实，已处理该用户" + String(repeating: "处", count: 2000 - 10)
            try stack.browser("reply_complaint", [
                "COMPLAINT_ID": "\(id)", "REPLY": reply, "REPORTER_ID": "\(reporter.id)", "TARGET_ID": "\(target.id)", "TARGET_NAME": target.username,
                "REASON": "骚扰信息", "CONTENT": "他一直给我发广告",
            ])
            let detail = try stack.get("/api/chat/complaint/detail/\(id)", token: reporter.token)
            let data = try #require(detail.body["data"] as? [String: Any], "\(detail)")
            #expect(detail.body["msg"] as? String == "获取成功")
            #expect(data["status"] as? Int == 2 && data["admin_reply"] as? String == reply, "\(data)")
            try await stack.persisted("SELECT status, admin_reply FROM chat_complaint WHERE id = \(id)") { $0 == [["2", reply]] }
            try await stack.audited("complaint.reply", target: id)
            // One character more is refused with the limit's text, and changes nothing.
            let session = try stack.console.login(stack.adminName, password: stack.adminPassword)
            let longer = try stack.console.request(
                "POST", "/api/complaints/\(id)/reply", json: ["status": 3, "admin_reply": reply + "。"], session: session
            )
            #expect(longer.json["msg"] as? String == "fail" && longer.json["data"] as? String == "参数admin_reply长度不能超过2000个字符", "\(longer.body)")
            let after = try stack.get("/api/chat/complaint/detail/\(id)", token: reporter.token)
            #expect((after.body["data"] as? [String: Any])?["status"] as? Int == 2, "\(after)")
        }
    }

    @Test("disable a group on the page: its members listed, sending to it refused; enable: sending works; MariaDB follows", .timeLimit(.minutes(3)))
    func disableAndEnableGroup() async throws {
        try await ConsoleStack.with("group") { stack in
            let owner = try stack.bridge.register()
            let members = [try stack.bridge.register(), try stack.bridge.register()]
            var rows: [Int] = []
            for member in members {
                try Self.ok(stack.bridge, "/api/chat/autoAddFriendAndAgree", ["friend_id": owner.id], member)
                let row = try #require(try Self.ok(stack.bridge, "/api/chat/ismygoodfriend/\(member.id)", [:], owner) as? [String: Any])
                rows.append(try #require(row["id"] as? Int))
            }
            try Self.ok(stack.bridge, "/api/chat/group/create", ["userIds": rows], owner)
            let group = try #require(Int(try await stack.persisted("SELECT id FROM `group` WHERE user_id = \(owner.id)") { $0.count == 1 }
                .first?[0] ?? ""))
            let memberIDs = ([owner] + members).map { "\($0.id)" }.joined(separator: ",")

            try stack.browser("group_status", ["GROUP_ID": "\(group)", "ACTION": "disable", "MEMBER_IDS": memberIDs])
            let refused = try stack.bridge.post("/api/chat/socket/sendmessage", [
                "sendto_id": group, "chatType": "group", "type": "text", "data": "还在吗",
            ], token: members[0].token)
            #expect(refused.body["data"] as? String == "群不存在或者已解散或者被封禁，无法发消息", "\(refused)")
            try await stack.persisted("SELECT status FROM `group` WHERE id = \(group)") { $0 == [["0"]] }
            try await stack.audited("group.disable", target: group)

            try stack.browser("group_status", ["GROUP_ID": "\(group)", "ACTION": "enable", "MEMBER_IDS": memberIDs])
            try Self.ok(stack.bridge, "/api/chat/socket/sendmessage", [
                "sendto_id": group, "chatType": "group", "type": "text", "data": "又可以了",
            ], members[0])
            try await stack.persisted("SELECT status FROM `group` WHERE id = \(group)") { $0 == [["1"]] }
            try await stack.audited("group.enable", target: group)
        }
    }

    @Test("the dashboard: users and sockets per bridge, then the messages of the last hour move after messages are sent (within a few heartbeats)", .timeLimit(.minutes(3)))
    func dashboard() async throws {
        try await ConsoleStack.with("dashboard", bridges: 2, bridgeSettings: ["HEARTBEAT_MS": "1000"]) { stack in
            let (a, b) = (stack.bridges[0], stack.bridges[1])
            let alice = try a.register()
            let bob = try b.register()
            try Self.ok(a, "/api/chat/autoAddFriendAndAgree", ["friend_id": bob.id], alice)
            let aliceSocket = try await Self.connected(a, alice.token)
            let bobSocket = try await Self.connected(b, bob.token)
            defer { Task { await aliceSocket.close(); await bobSocket.close() } }
            let perNode = ["sockets": 1, "users": 1]
            let first = try stack.browser("dashboard", ["TIMEOUT": "15", "EXPECT": try Self.json([
                "online_users": 2, "sockets_total": 2, "nodes": [a.node: perNode, b.node: perNode], "messages_last_hour": 0,
            ])])
            #expect(first["deadletters"] as? Int == 0)
            #expect(first["chart"] as? [String: Int] == ["bars": 60, "drawn": 0, "total": 0], "\(first)")

            for index in 1...5 {
                try Self.ok(a, "/api/chat/socket/sendmessage", [
                    "sendto_id": bob.id, "chatType": "single", "type": "text", "data": "第\(index)条",
                ], alice)
            }
            try Self.ok(b, "/api/chat/socket/sendmessage", ["sendto_id": alice.id, "chatType": "single", "type": "text", "data": "收到"], bob)
            // Drained: the stream's length stays (no trimming here), nothing pending.
            let length = try #require(try await stack.redis.send("XLEN", "chat:stream:messages").integer)
            try await stack.persisted("SELECT COUNT(*) FROM message") { $0 == [["6"]] }
            let after = try stack.browser("dashboard", ["TIMEOUT": "15", "EXPECT": try Self.json([
                "messages_last_hour": 6, "online_users": 2,
                "streams": ["chat:stream:messages": ["length": Int(length), "pending": 0]],
            ])])
            // A bar a minute for the last hour; the six messages in the last one or two.
            let chart = try #require(after["chart"] as? [String: Int], "\(after)")
            #expect(chart["bars"] == 60 && chart["total"] == 6 && (1...2).contains(chart["drawn"] ?? 0), "\(chart)")
        }
    }

    @Test("replay a dead letter after fixing its cause: a complaint MariaDB refused (a column narrowed), the column restored, replayed from the page, the row in MariaDB; another dropped; both on the audit page", .timeLimit(.minutes(3)))
    func replayDeadLetter() async throws {
        try await ConsoleStack.with("deadletter", persisterSettings: ["PERSISTER_MAX_ATTEMPTS": "2"]) { stack in
            let reporter = try stack.bridge.register()
            let target = try stack.bridge.register()
            let connection = try stack.database.connect()
            let type = try #require(try connection.query(
                "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'chat_complaint' AND COLUMN_NAME = 'reason'"
            ).first?[0] ?? nil)
            // The cause: a column too narrow for the reason (an entity row is written in
            // strict mode; messages go in with INSERT IGNORE, which would cut it instead).
            try connection.execute("ALTER TABLE chat_complaint MODIFY reason VARCHAR(3) NOT NULL")
            var complaints: [Int] = []
            for reason in ["广告信息太多了", "另一条太长的原因"] {
                let created = try stack.bridge.post("/api/chat/complaint/create", [
                    "target_id": target.id, "target_type": "single", "reason": reason,
                ], token: reporter.token)
                complaints.append(try #require((created.body["data"] as? [String: Any])?["id"] as? Int, "\(created)"))
            }
            // The dead letters, by the complaint each holds.
            var entries: [Int: String] = [:]
            _ = try await eventually(within: 30) {
                for letter in try await stack.redis.send("XRANGE", "chat:stream:deadletter", "-", "+").array ?? [] {
                    guard let id = letter.array?.first?.string, let fields = letter.array?.last?.fieldValues,
                          fields["field.entity"] == "complaint", let complaint = fields["field.id"].flatMap(Int.init)
                    else { continue }
                    entries[complaint] = id
                }
                return entries.count == 2
            }
            #expect(try connection.query("SELECT COUNT(*) FROM chat_complaint").first?[0] == "0")
            let (replayed, dropped) = (try #require(entries[complaints[0]]), try #require(entries[complaints[1]]))

            // The fix, then the replay from the page; the other one dropped.
            try connection.execute("ALTER TABLE chat_complaint MODIFY reason \(type) NOT NULL")
            let replay = try stack.browser("deadletter", [
                "ENTRY_ID": replayed, "ACTION": "replay", "STREAM": "chat:stream:entities", "ERROR_CONTAINS": "reason",
            ])
            #expect(replay["attempts"] as? Int == 2 && replay["count_before"] as? Int == 2, "\(replay)")
            try await stack.persisted("SELECT reason, user_id FROM chat_complaint WHERE id = \(complaints[0])") {
                $0 == [["广告信息太多了", "\(reporter.id)"]]
            }
            let drop = try stack.browser("deadletter", [
                "ENTRY_ID": dropped, "ACTION": "drop", "STREAM": "chat:stream:entities", "ERROR_CONTAINS": "reason",
            ])
            #expect(drop["count_before"] as? Int == 1, "\(drop)")
            #expect(try await stack.redis.send("XLEN", "chat:stream:deadletter").integer == 0)
            let replayAudit = try await stack.audited("deadletter.replay", target: nil)
            #expect(replayAudit.first?[4]?.contains(replayed) == true, "the audit names the entry: \(replayAudit)")
            let dropAudit = try await stack.audited("deadletter.drop", target: nil)
            #expect(dropAudit.first?[4]?.contains(dropped) == true, "the audit names the entry: \(dropAudit)")
            // The dropped complaint never reaches MariaDB.
            try await Task.sleep(for: .seconds(1))
            #expect(try connection.query("SELECT COUNT(*) FROM chat_complaint WHERE id = \(complaints[1])").first?[0] == "0")

            // The audit page, newest first.
            let audit = try #require(try stack.browser("audit")["rows"] as? [[String: String]])
            #expect(audit.prefix(2).map { $0["action"] ?? "" } == ["deadletter.drop", "deadletter.replay"], "\(audit)")
            #expect(audit.prefix(2).allSatisfy { $0["admin"] == stack.adminName }, "\(audit)")
            #expect(audit.last?["action"] == "admin.create" && audit.last?["admin"] == "cli", "\(audit)")
        }
    }

    @Test("a form posted without its CSRF token, or with a wrong one, is refused with 403 and 请求已过期，请刷新页面后重试; nothing is created", .timeLimit(.minutes(3)))
    func csrf() async throws {
        try await ConsoleStack.with("csrf") { stack in
            let username = ConsoleStack.randomName("x")
            let result = try stack.browser("csrf", ["NEW_USERNAME": username])
            #expect(result.count == 5 && result.values.allSatisfy { $0 as? Int == 403 }, "\(result)")
            #expect(try await stack.redis.send("ZSCORE", "chat:user:names", username).isNull)
            #expect(try stack.bridge.post("/api/loginChat", ["username": username, "password": "secret1"]).status != 200)
            #expect(try await stack.redis.send("LLEN", "chat:admin:audit").integer == 1, "only the admin's creation is audited")
        }
    }

    @Test("the console is not reachable on the API port: the bridge answers 404 for the console's pages and API", .timeLimit(.minutes(2)))
    func notOnTheAPIPort() async throws {
        try await ConsoleStack.with("apiport") { stack in
            for path in ["/login", "/users", "/users/new", "/complaints", "/groups", "/deadletters", "/audit", "/api/users", "/api/dashboard", "/static/console.css"] {
                #expect(HTTPProbe.get(port: stack.bridge.port, path: path)?.status == 404, "GET \(path) on the bridge")
                #expect(HTTPProbe.get(port: stack.console.port, path: path)?.status != 404, "GET \(path) on the console")
            }
            let body = Array(#"{"username":"\#(stack.adminName)","password":"\#(stack.adminPassword)"}"#.utf8)
            let onBridge = HTTPProbe.request(
                port: stack.bridge.port, method: "POST", path: "/api/login", headers: [("Content-Type", "application/json")], body: body
            )
            #expect(onBridge?.status == 404, "POST /api/login on the bridge: \(String(describing: onBridge))")
            // The same login on the console's port works.
            let session = try stack.console.login(stack.adminName, password: stack.adminPassword)
            #expect(try stack.console.request("GET", "/api/users", session: session).status == 200)
        }
    }

    // MARK: Helpers

    static func connected(_ bridge: BridgeProcess, _ token: String) async throws -> WebSocketTestClient {
        let socket = try await bridge.connect(token: token)
        while true {
            if try await socket.nextText().contains(#""type":"system""#) { return socket }
        }
    }

    @discardableResult
    static func ok(_ bridge: BridgeProcess, _ path: String, _ body: [String: Any], _ account: Account) throws -> Any? {
        let response = try bridge.post(path, body, token: account.token)
        #expect(response.status == 200 && response.body["msg"] as? String == "ok", "\(path): \(response.status) \(response.body)")
        return response.body["data"]
    }

    static func json(_ value: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value), as: UTF8.self)
    }
}
