import ChatScripts
import Foundation
import LuaScripts
import MariaDB
import Model
import RedisClient
import Testing
import TestSupport

/// docs/operations.md, *Redis ACL*: the four users installed from the document's own
/// lines on a Redis of the test's own. The bridge and the persister run as theirs (a
/// registration, a friendship, a send, a password change, all persisted; `persister
/// status` and `hydrate`) without one refusal; the analytics user reads the public
/// streams with a consumer group of its own, and nothing else; the console's user runs
/// an operator's script and the reads of its pages, and no more.
@Suite("Redis ACL of docs/operations.md", .serialized, .offCooperativePool)
struct RedisACLTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func password(_ user: String) -> String { "test-\(user)-password" }

    /// The `ACL SETUSER` lines of the *Redis ACL* section, by user, each as its words with
    /// the password replaced by ``password(_:)``.
    static func rules() throws -> [String: [String]] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/operations.md"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(of: "## Redis ACL") else { throw TestEnvironment.Missing(description: "no ## Redis ACL in docs/operations.md") }
        var rules: [String: [String]] = [:]
        for line in lines[(start + 1)...].prefix(while: { !$0.hasPrefix("## ") }) where line.hasPrefix("ACL SETUSER ") {
            let words = line.split(separator: " ").map(String.init)
            let user = words[2]
            rules[user] = words.map { $0.hasPrefix(">") ? ">" + password(user) : $0 }
        }
        return rules
    }

    /// The commands a rule allows one by one (`+name`, lowercased).
    static func allowedCommands(_ rule: [String]) -> Set<String> {
        Set(rule.filter { $0.hasPrefix("+") && !$0.hasPrefix("+@") }.map { String($0.dropFirst()).lowercased() })
    }

    /// The scripts only the operators' console runs (docs/console.md).
    static let consoleScripts: Set<String> = [
        "admin_account", "admin_user_change", "admin_audit", "complaint_reply", "group_status", "deadletter_change",
    ]
    /// The bridge's scripts the console runs too: a user it creates (in one run, or in
    /// steps on a partitioned layout), its login lockouts, a group's status in steps.
    static let sharedScripts: Set<String> = ["user_register", "user_register_rows", "user_claim", "rate_limit", "group_step"]

    /// A script of `lua/` with its `--@include`s expanded, as the build embeds it.
    static func assembled(_ name: String) throws -> String {
        var included: Set<String> = []
        func expand(_ url: URL) throws -> String {
            let source = try String(contentsOf: url, encoding: .utf8)
            return try source.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
                guard line.hasPrefix("--@include ") else { return String(line) }
                let helper = line.dropFirst("--@include ".count).trimmingCharacters(in: .whitespaces)
                guard included.insert(helper).inserted else { return "" }
                return try expand(root.appendingPathComponent("lua/lib/\(helper).lua"))
            }.joined(separator: "\n")
        }
        return try expand(root.appendingPathComponent("lua/\(name).lua"))
    }

    /// The commands the scripts call (`redis.call('NAME'`, lowercased), with their helpers.
    static func commands(ofScripts names: [String]) throws -> Set<String> {
        let pattern = try NSRegularExpression(pattern: #"redis\.p?call\(\s*['"]([A-Za-z]+)['"]"#)
        var used: Set<String> = []
        for name in names {
            let source = try assembled(name)
            for match in pattern.matches(in: source, range: NSRange(source.startIndex..., in: source)) {
                if let range = Range(match.range(at: 1), in: source) { used.insert(source[range].lowercased()) }
            }
        }
        return used
    }

    static func scripts() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("lua").path)
            .filter { $0.hasSuffix(".lua") }.map { String($0.dropLast(4)) }
    }

    @Test("the bridge's rule allows every command the bridge's scripts in lua/ call")
    func bridgeRuleCoversTheScripts() throws {
        let bridge = try #require(try Self.rules()["bridge"])
        let allowed = Self.allowedCommands(bridge)
        #expect(bridge.contains("-@all"), "a list of what is allowed, not of what is not")
        let names = try Self.scripts().filter { !Self.consoleScripts.contains($0) }
        #expect(names.count >= 25 && names.contains("node_heartbeat"), "\(names)")
        let used = try Self.commands(ofScripts: names)
        #expect(used.count > 30, "the scripts were read (\(used.sorted()))")
        let missing = used.subtracting(allowed)
        #expect(missing.isEmpty, "commands of lua/ that the bridge's ACL rule does not allow: \(missing.sorted())")
    }

    @Test("the console's rule allows every command of the scripts the console runs, and the reads of its pages; nothing that lists keys or reconfigures")
    func consoleRuleCoversItsScripts() throws {
        let console = try #require(try Self.rules()["console"])
        let allowed = Self.allowedCommands(console)
        #expect(console.contains("-@all"))
        #expect(Set(try Self.scripts()).isSuperset(of: Self.consoleScripts))
        let used = try Self.commands(ofScripts: Array(Self.consoleScripts.union(Self.sharedScripts)))
        #expect(used.isSuperset(of: ["lpush", "ltrim", "xadd", "xdel", "xrange", "hset"]), "\(used.sorted())")
        let missing = used.subtracting(allowed)
        #expect(missing.isEmpty, "commands of the console's scripts its ACL rule does not allow: \(missing.sorted())")
        let reads: Set<String> = [
            "hgetall", "hget", "hmget", "hlen", "zrevrange", "zrange", "zrevrangebyscore", "zrangebyscore", "zrangebylex", "zlexcount", "zcard",
            "time", "incr", "xrange", "xrevrange", "xlen",
            "xinfo|stream", "xinfo|groups", "mget", "get", "lrange", "hset", "expire", "del", "evalsha", "eval", "script|load",
        ]
        #expect(reads.subtracting(allowed).isEmpty, "\(reads.subtracting(allowed).sorted())")
        for forbidden in ["keys", "scan", "config", "flushall", "flushdb", "xgroup", "xreadgroup", "xack", "subscribe"] {
            #expect(!allowed.contains(forbidden), "\(forbidden)")
        }
    }

    @Test("bridge and persister run as their users without a refusal; analytics reads the public streams and nothing else; the console runs its scripts and reads")
    func threeRoles() async throws {
        try await DrainFixture.with(prefix: "acl") { fixture in
            let rules = try Self.rules()
            #expect(Set(rules.keys) == ["bridge", "persister", "analytics", "console"])
            for (_, words) in rules.sorted(by: { $0.key < $1.key }) {
                try await fixture.redis.send(RedisCommand(words[0], words.dropFirst().map { $0 as any RedisArgument })).throwingOnError()
            }
            let port = fixture.redisServer.port
            func url(_ user: String) -> String { "redis://\(user):\(Self.password(user))@127.0.0.1:\(port)/0" }

            // Analytics' group first, from the streams' beginning: the persister's trimming
            // keeps what it has not acknowledged.
            let analytics = RedisClient(configuration: try RedisConfiguration.forTests(url: url("analytics")))
            defer { Task { await analytics.shutdown() } }
            // Every shard of the run's layout (one stream each on one Redis: docs/streams.md, *Shards*).
            let publicShards = testKeys.shards(of: StreamName.entities) + testKeys.shards(of: StreamName.messages)
            for stream in publicShards {
                #expect(try await analytics.send("XGROUP", "CREATE", stream, "jobs", "0", "MKSTREAM").string == "OK")
            }

            // The bridge and the persister as their users: register, befriend, send, change
            // a password; everything reaches MariaDB, and the persister trims.
            let bridge = try await BridgeProcess(redisURL: url("bridge"))
            let persister = try PersisterProcess(
                redisURL: url("persister"), mariaDBURL: fixture.database.url, settings: ["PERSISTER_TRIM_INTERVAL_MS": "200"]
            )
            let a = try bridge.register(), b = try bridge.register()
            @discardableResult
            func ok(_ path: String, _ body: [String: Any], _ token: String) throws -> Any? {
                let response = try bridge.post(path, body, token: token)
                #expect(response.status == 200 && response.body["msg"] as? String == "ok", "\(path): \(response)")
                return response.body["data"]
            }
            try ok("/api/chat/autoAddFriendAndAgree", ["friend_id": b.id], a.token)
            let sent = try #require(try ok("/api/chat/socket/sendmessage", ["sendto_id": b.id, "chatType": "single", "type": "text", "data": "你好"], a.token) as? [String: Any])
            let messageID = try #require(sent["id"] as? String)
            try ok("/api/chat/setPassword", ["oldpassword": "secret1", "newpassword": "secret2", "checknewpassword": "secret2"], a.token)
            let hash = try #require(try await fixture.redis.send("HGET", testKeys.user(a.id), "password").string)
            let hashB = try #require(try await fixture.redis.send("HGET", testKeys.user(b.id), "password").string)
            func persisted(_ sql: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
                var last: String?
                do {
                    try await eventually(within: 30) {
                        last = try fixture.database.connect().query(sql).first?[0] ?? nil
                        return last == expected
                    }
                } catch {
                    Issue.record("\(sql): \(last ?? "nil"), not \(expected)", sourceLocation: sourceLocation)
                }
            }
            try await persisted("SELECT password FROM user WHERE id = \(a.id)", hash)
            try await persisted("SELECT password FROM user WHERE id = \(b.id)", hashB)
            try await persisted("SELECT COUNT(*) FROM goodfriend WHERE user_id IN (\(a.id), \(b.id))", "2")
            try await persisted("SELECT data FROM message WHERE id = '\(messageID)'", #""你好""#)
            try await eventually(within: 10) { try await fixture.drained() }
            let clients = try #require(try await fixture.redis.send("CLIENT", "LIST").string)
            #expect(clients.contains("user=bridge ") && clients.contains("user=persister "), "\(clients)")

            // persister status and hydrate as the persister: a's row, deleted from Redis, is
            // restored with its hash (and a's new password logs in); a group from MariaDB
            // lands in its keys.
            let status = try Executables.run("persister", arguments: ["status", "--json"], environment: ["REDIS_URL": url("persister")])
            #expect(status.status == 0 && status.output.contains("chat:stream:private"), "\(status.output)")
            let database = try fixture.database.connect()
            try database.execute("INSERT INTO `group` (id, uuid, user_id, name, version) VALUES (900, 'g900', \(a.id), 'acl', 1)")
            try database.execute("INSERT INTO group_user (id, group_id, user_id, nickname, version) VALUES (900, 900, \(a.id), '', 1)")
            try await fixture.redis.send("DEL", testKeys.user(a.id)).throwingOnError()
            let hydrate = try Executables.run(
                "persister", arguments: ["hydrate", "--force"], environment: ["REDIS_URL": url("persister"), "MARIADB_URL": fixture.database.url]
            )
            #expect(hydrate.status == 0, "\(hydrate.output)")
            // verify reads what hydrate wrote, as the persister (a live bridge may differ:
            // only the refusals matter here, not the outcome).
            let verify = try Executables.run(
                "persister", arguments: ["verify"], environment: ["REDIS_URL": url("persister"), "MARIADB_URL": fixture.database.url]
            )
            #expect(verify.status < 2 && verify.output.contains("sampled rows compared"), "\(verify.output)")
            #expect(try await fixture.redis.send("HGET", testKeys.user(a.id), "password").string == hash)
            #expect(try await fixture.redis.send("HGET", testKeys.group(900), "name").string == "acl")
            #expect(try await fixture.redis.send("ZSCORE", testKeys.groupsOfUser(a.id), "900").string == "900")
            let login = try bridge.post("/api/loginChat", ["username": a.username, "password": "secret2"])
            #expect(login.status == 200 && login.body["msg"] as? String == "ok", "\(login)")

            // The private stream was written, read and trimmed by the persister alone.
            let privateStream = try await fixture.persisterGroup(on: StreamName.privateEntities)
            #expect(Int(privateStream["entries-read"] ?? "") ?? 0 >= 4, "\(privateStream)")
            for shard in testKeys.shards(of: StreamName.privateEntities) {
                try await eventually(within: 10) { try await fixture.redis.send("XLEN", shard).integer == 0 }
            }

            // Analytics: everything on the public streams through its own group.
            var entries: [String: [(id: String, fields: [String: String])]] = [:]
            for shard in publicShards {
                let read = try await analytics.send(
                    "XREADGROUP", "GROUP", "jobs", "j1", "COUNT", "10000", "STREAMS", shard, ">"
                ).throwingOnError()
                for stream in read.array ?? [] {
                    entries[shard] = (stream.array?.last?.array ?? []).compactMap { entry in
                        guard let id = entry.array?.first?.string, let fields = entry.array?.last?.fieldValues else { return nil }
                        return (id, fields)
                    }
                }
            }
            let entities = testKeys.shards(of: StreamName.entities).flatMap { entries[$0] ?? [] }
            let messages = testKeys.shards(of: StreamName.messages).flatMap { entries[$0] ?? [] }
            // The shard holding a's events (its partition's) and the one holding the message.
            let entityShard = testKeys.entities(ofUser: a.id)
            let messageShard = try #require(testKeys.shards(of: StreamName.messages).first { shard in
                entries[shard]?.contains { $0.fields["id"] == messageID } == true
            })
            #expect(messages.contains { $0.fields["id"] == messageID })
            let userEvents = entities.filter { $0.fields["entity"] == "user" && $0.fields["id"] == String(a.id) }
            #expect(userEvents.count >= 3 && userEvents.allSatisfy { $0.fields["v"] == "2" })
            for entry in entities + messages {
                for text in entry.fields.values {
                    #expect(!text.contains(hash) && !text.contains(hashB) && !text.contains("\"password\""), "\(entry)")
                }
            }
            #expect(try await analytics.send("XLEN", entityShard).integer == Int64(entries[entityShard]?.count ?? -1))
            let firstEntity = try #require(entries[entityShard]?.first?.id)
            #expect(try await analytics.send("XACK", entityShard, "jobs", firstEntity).integer == 1)
            #expect(try await analytics.send("XRANGE", messageShard, "-", "+", "COUNT", "1").array?.count == 1)
            #expect(try await analytics.send("XREVRANGE", entityShard, "+", "-", "COUNT", "1").array?.count == 1)
            #expect(try await analytics.send("XREAD", "COUNT", "1", "STREAMS", messageShard, "0").array?.count == 1)
            #expect(try await analytics.send("XINFO", "GROUPS", entityShard).array?.count == 2)
            // The shards of a partitioned layout (docs/streams.md, *Shards*), and how many there are.
            let shard = RedisKeys(layout: KeyLayout(partitionTags: PartitionTags.evenlySpaced(count: 4))).stream(StreamName.messages, partition: 1)
            #expect(try await analytics.send("XRANGE", shard, "-", "+").array != nil)
            #expect(try await analytics.send("HGET", RedisKeys.meta, "partitions").string != nil)

            // …and nothing else: no private stream, rows, tokens, key listing or writes.
            let entityID = firstEntity
            let privateShard = testKeys.privateEntities(ofUser: a.id)
            let refused: [[String]] = [
                ["XRANGE", privateShard, "-", "+"],
                ["XREAD", "STREAMS", privateShard, "0"],
                ["XREADGROUP", "GROUP", "jobs", "j1", "STREAMS", privateShard, ">"],
                ["XINFO", "STREAM", privateShard],
                ["XRANGE", "chat:stream:deadletter", "-", "+"],
                ["XRANGE", StreamName.privateEntities + "{p1.3}", "-", "+"],
                ["HSET", RedisKeys.meta, "partitions", "1"],
                ["HGETALL", testKeys.user(a.id)],
                ["HGET", testKeys.user(a.id), "password"],
                ["GET", testKeys.userToken(a.id)],
                ["GET", RedisKeys.userByName(a.username)],
                ["LRANGE", testKeys.offlineQueue(b.id), "0", "-1"],
                ["LRANGE", testKeys.singleHistory(owner: a.id, peer: b.id), "0", "-1"],
                ["KEYS", "*"],
                ["SCAN", "0"],
                ["RANDOMKEY"],
                ["EVAL", "return redis.call('HGET', KEYS[1], 'password')", "1", testKeys.user(a.id)],
                ["XADD", entityShard, "*", "v", "1"],
                ["XDEL", entityShard, entityID],
                ["XTRIM", entityShard, "MAXLEN", "0"],
                ["DEL", entityShard],
                ["XGROUP", "DESTROY", entityShard, "persister"],
                ["XGROUP", "SETID", entityShard, "persister", "0"],
                ["XAUTOCLAIM", entityShard, "persister", "j1", "0", "0-0"],
                ["XCLAIM", entityShard, "persister", "j1", "0", entityID],
                ["CONFIG", "GET", "*"],
                ["ACL", "LIST"],
                ["CLIENT", "LIST"],
                ["FLUSHALL"],
            ]
            for command in refused {
                let reply = try await analytics.send(RedisCommand(command[0], command.dropFirst().map { $0 as any RedisArgument }))
                #expect(reply.errorMessage?.hasPrefix("NOPERM") == true, "\(command.joined(separator: " ")): \(reply)")
            }
            #expect(try await fixture.redis.send("EXISTS", testKeys.user(b.id)).integer == 1)

            // The console: an operator disables b (its revocation included) through the
            // script, and reads what its pages read; no key listing, history or queue.
            let console = RedisClient(configuration: try RedisConfiguration.forTests(url: url("console")))
            defer { Task { await console.shutdown() } }
            // As the console runs it in the run's layout (on a tagged one, the audit a step of its own).
            let consoleScripts = RedisScripts(client: console, scripts: LuaScripts.all.map { RedisScript(name: $0.name, source: $0.source) })
            let operatorAudit = OperatorAudit(admin: "root", address: "127.0.0.1", now: "2026-12-07 08:00:00")
            let disable = try await consoleScripts.run(ChangeUserByOperator(
                keys: testKeys, user: b.id, .disable, audit: operatorAudit, streamCap: 1000, deadAfterMilliseconds: 60_000
            ))
            #expect(disable.isChange, "\(disable)")
            if case .changedUnaudited(_, _, let action, let detail) = disable {
                _ = try await consoleScripts.run(RecordAudit(
                    keys: testKeys, audit: operatorAudit, streamCap: 1000, action: action, targetType: "user", targetID: b.id, detail: detail
                ))
            }
            #expect(try await fixture.redis.send("HGET", testKeys.user(b.id), "status").string == "0")
            #expect(try await console.send("LLEN", testKeys.adminAudit).integer == 1)
            for read in [
                ["HGETALL", testKeys.user(a.id)], ["ZRANGEBYLEX", testKeys.userNames(partition: 0), "-", "+", "LIMIT", "0", "20"],
                ["ZLEXCOUNT", testKeys.userNicknames(partition: 0), "[a", "(b"], ["ZREVRANGE", testKeys.users(partition: 0), "0", "19"],
                ["ZREVRANGEBYSCORE", testKeys.users(partition: 0), "+inf", "-inf", "LIMIT", "0", "20"], ["XINFO", "GROUPS", entityShard],
                ["XRANGE", StreamName.deadLetters, "-", "+", "COUNT", "20"], ["MGET", testKeys.messagesInMinute(1), testKeys.messagesInMinute(2)],
                ["HSET", RedisKeys.adminSession("ab"), "admin", "root"], ["EXPIRE", RedisKeys.adminSession("ab"), "1800"],
                ["DEL", RedisKeys.adminSession("ab")], ["HGETALL", testKeys.nodeStats],
                ["HGETALL", testKeys.admin("root")], ["ZRANGE", testKeys.admins, "0", "-1"],
            ] {
                let reply = try await console.send(RedisCommand(read[0], read.dropFirst().map { $0 as any RedisArgument }))
                #expect(reply.errorMessage == nil, "\(read.joined(separator: " ")): \(reply)")
            }
            let consoleRefused: [[String]] = [
                ["KEYS", "*"], ["SCAN", "0"], ["FLUSHALL"], ["CONFIG", "GET", "*"],
                ["LRANGE", testKeys.singleHistory(owner: a.id, peer: b.id), "0", "-1"], ["LRANGE", testKeys.offlineQueue(b.id), "0", "-1"],
                ["XREADGROUP", "GROUP", "persister", "c", "STREAMS", entityShard, ">"],
            ]
            for command in consoleRefused {
                let reply = try await console.send(RedisCommand(command[0], command.dropFirst().map { $0 as any RedisArgument }))
                #expect(reply.errorMessage?.hasPrefix("NOPERM") == true, "\(command.joined(separator: " ")): \(reply)")
            }

            // Not one command of the bridge or the persister was refused (the analytics
            // and console refusals above are logged as theirs).
            let log = try await fixture.redis.send("ACL", "LOG", "1000")
            let users = (log.array ?? []).map { $0.fieldValues["username"] ?? "?" }
            #expect(users.filter { $0 == "analytics" }.count >= 10, "the log holds the refusals above: \(users)")
            #expect(users.filter { $0 == "console" }.count == consoleRefused.count, "\(users)")
            let refusals = (log.array ?? []).map(\.fieldValues).filter { $0["username"] != "analytics" && $0["username"] != "console" }
            #expect(refusals.isEmpty, "refused: \(refusals)")

            persister.signal(SIGTERM)
            #expect(persister.waitForExit(timeout: 20) == 0)
            _ = bridge
        }
    }
}
