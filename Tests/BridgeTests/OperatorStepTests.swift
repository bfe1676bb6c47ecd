import ChatScripts
import Foundation
import LuaScripts
import Model
import RedisClient
import TestSupport
import Testing

/// The operators' scripts on a tagged layout (4 partitions, on a Redis of the test's
/// own): the change in its own partition's run, its audit row a step of its own on the
/// audit's slot (`admin_audit`). A crash between the two leaves the change standing and
/// its audit row missing, which nothing repairs (docs/architecture.md): shown here by
/// reading Redis after the change's run, before the audit step. The console's accounts
/// are in the audit's slot: their change and its audit stay one run. A dead letter of a
/// stream's shard replays to that shard, on either layout.
@Suite("Operator scripts on a tagged layout", .offCooperativePool)
struct OperatorStepTests {
    static let keys = RedisKeys(layout: KeyLayout(partitionTags: PartitionTags.evenlySpaced(count: 4)))
    static let audit = OperatorScriptTests.audit
    static let now = OperatorScriptTests.now
    static let cap = OperatorScriptTests.cap

    /// The audit's keys hold nothing yet: its step has not run.
    static func expectUnaudited(_ fixture: OperatorScriptTests.Fixture, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for key in [keys.adminAudit, keys.adminAuditIDs, keys.auditStream] {
            #expect(try await fixture.redis.send("EXISTS", key).integer == 0, "\(key)", sourceLocation: sourceLocation)
        }
    }

    /// The audit list's rows, newest first, parsed.
    static func auditRows(_ fixture: OperatorScriptTests.Fixture) async throws -> [[String: Any]] {
        (try await fixture.redis.send("LRANGE", keys.adminAudit, "0", "-1").array ?? []).map { OperatorScriptTests.json($0.string) }
    }

    @Test("complaint_reply in the reporter's partition without the audit (the change stands, no audit row: a crash's state), then admin_audit writes the row on the audit's slot")
    func complaintReplyThenAudit() async throws {
        let fixture = try OperatorScriptTests.Fixture()
        defer { Task { await fixture.shutdown() } }
        let (reporter, target) = (7, 6)  // partitions 3 and 2
        let partition = Self.keys.layout.partition(ofUser: reporter)
        for user in [reporter, target] {
            try await fixture.redis.send("HSET", Self.keys.user(user), "id", String(user), "status", "1").throwingOnError()
        }
        let created = try await fixture.scripts.run(ChangeComplaint(
            11, by: reporter, .create(target: .user(target), reason: "骚扰", optional: "{}", limit: 10), keys: Self.keys, targetChecked: true,
            streamCap: Self.cap, now: Self.now
        ))
        #expect(created == .version(1))

        let reply = try await fixture.scripts.run(ReplyToComplaint(
            keys: Self.keys, 11, partition: partition, status: 2, reply: "已处理", audit: Self.audit, streamCap: Self.cap
        ))
        guard case .changedUnaudited(let version, let action, let detail) = reply else {
            Issue.record("\(reply)")
            return
        }
        #expect(version == 2 && action == "complaint.reply")
        #expect(OperatorScriptTests.json(detail) as NSDictionary == ["from": 0, "status": 2, "reply": "已处理"] as NSDictionary)
        let row = try await fixture.redis.send("HGETALL", Self.keys.complaint(11, reporter: reporter)).fieldValues
        #expect(row["status"] == "2" && row["admin_reply"] == "已处理" && row["_v"] == "2")
        #expect(try await fixture.redis.send("ZCARD", Self.keys.complaints(status: 0, partition: partition)).integer == 0)
        #expect(try await fixture.redis.send("ZSCORE", Self.keys.complaints(status: 2, partition: partition), "11").string == "11")
        let events = try await fixture.entries(Self.keys.stream(StreamName.entities, partition: partition))
        #expect(events.map { $0.fields["version"] ?? "" } == ["1", "2"])
        try await Self.expectUnaudited(fixture)

        let auditID = try await fixture.scripts.run(RecordAudit(
            keys: Self.keys, audit: Self.audit, streamCap: Self.cap, action: action, targetType: "complaint", targetID: 11, detail: detail
        ))
        #expect(auditID == 1)
        OperatorScriptTests.expectAudit(
            try await Self.auditRows(fixture).first, id: 1, action: "complaint.reply", target: "complaint", targetID: 11,
            detail: ["from": 0, "status": 2, "reply": "已处理"]
        )
        #expect(try await fixture.entries(Self.keys.auditStream).map { $0.fields["entity"] ?? "" } == ["admin_audit"])

        let before = try await fixture.snapshot()
        let missing = try await fixture.scripts.run(ReplyToComplaint(
            keys: Self.keys, 12, partition: partition, status: 1, reply: "x", audit: Self.audit, streamCap: Self.cap
        ))
        #expect(missing == .refused(.missing))
        #expect(try await fixture.snapshot() == before)
    }

    /// A dead letter of an entry of `stream` (private, with a secret in its row).
    static func deadLetter(_ fixture: OperatorScriptTests.Fixture, from stream: String, entry: String) async throws -> String {
        try #require(try await fixture.redis.send(
            "XADD", StreamName.deadLetters, "*", "stream", stream, "entry", entry, "attempts", "5", "error", "too long",
            "consumer", "p1", "field.entity", "user", "field.id", "4", "field.row", #"{"id":4,"password":"secret-hash"}"#
        ).string)
    }

    @Test("deadletter_change with steps: the caller appended the entry to its shard; the run removes the dead letter without the audit (a crash's state), then admin_audit; another shard's name is stale; drop the same")
    func deadLetterStepsToShard() async throws {
        let fixture = try OperatorScriptTests.Fixture()
        defer { Task { await fixture.shutdown() } }
        let shard = Self.keys.stream(StreamName.privateEntities, partition: 3)
        let first = try await Self.deadLetter(fixture, from: shard, entry: "1-1")
        let second = try await Self.deadLetter(fixture, from: shard, entry: "1-2")
        func run(_ entry: String, _ operation: ChangeDeadLetter.Operation) async throws -> ChangeDeadLetter.Reply {
            try await fixture.scripts.run(ChangeDeadLetter(keys: Self.keys, entry: entry, operation, audit: Self.audit, streamCap: Self.cap))
        }

        // Step 1, as the console does it: the fields appended to the shard they came from.
        let appended = try #require(try await fixture.redis.send(
            "XADD", shard, "*", "entity", "user", "id", "4", "row", #"{"id":4,"password":"secret-hash"}"#
        ).string)
        let before = try await fixture.snapshot()
        let otherShard = Self.keys.stream(StreamName.privateEntities, partition: 1)
        #expect(try await run(first, .replayed(stream: otherShard, entry: appended)) == .refused(.stale))
        #expect(try await run("9-9", .replayed(stream: shard, entry: appended)) == .refused(.missing))
        #expect(try await fixture.snapshot() == before, "a refusal writes nothing")

        let reply = try await run(first, .replayed(stream: shard, entry: appended))
        guard case .changedUnaudited(let replayed, let action, let detail) = reply else {
            Issue.record("\(reply)")
            return
        }
        #expect(replayed == appended && action == "deadletter.replay")
        #expect(try await fixture.redis.send("XLEN", StreamName.deadLetters).integer == 1)
        #expect(try await fixture.entries(shard).map(\.id) == [appended], "the run appends nothing itself")
        try await Self.expectUnaudited(fixture)
        _ = try await fixture.scripts.run(RecordAudit(
            keys: Self.keys, audit: Self.audit, streamCap: Self.cap, action: action, targetType: "deadletter", targetID: nil, detail: detail
        ))

        let dropped = try await run(second, .drop)
        guard case .changedUnaudited(nil, let dropAction, let dropDetail) = dropped, dropAction == "deadletter.drop" else {
            Issue.record("\(dropped)")
            return
        }
        _ = try await fixture.scripts.run(RecordAudit(
            keys: Self.keys, audit: Self.audit, streamCap: Self.cap, action: "deadletter.drop", targetType: "deadletter", targetID: nil,
            detail: dropDetail
        ))
        #expect(try await fixture.redis.send("XLEN", StreamName.deadLetters).integer == 0)
        let rows = try await Self.auditRows(fixture)
        OperatorScriptTests.expectAudit(rows.first, id: 2, action: "deadletter.drop", target: "deadletter", targetID: nil, detail: [
            "deadletter": second, "stream": shard, "entry": "1-2", "error": "too long",
        ])
        OperatorScriptTests.expectAudit(rows.last, id: 1, action: "deadletter.replay", target: "deadletter", targetID: nil, detail: [
            "deadletter": first, "stream": shard, "entry": "1-1", "error": "too long", "replayed": appended,
        ])
        for row in rows { #expect(!(row["detail"] as? String ?? "").contains("secret-hash")) }
    }

    @Test("deadletter_change on one Redis replays a dead letter of a shard to that shard, audited in the same run; a name that is no stream's shard is refused")
    func deadLetterOfShardOnOneRun() async throws {
        let fixture = try OperatorScriptTests.Fixture()
        defer { Task { await fixture.shutdown() } }
        let shard = Self.keys.stream(StreamName.messages, partition: 3)
        let letter = try await Self.deadLetter(fixture, from: shard, entry: "1-1")
        func run(_ operation: ChangeDeadLetter.Operation) async throws -> ChangeDeadLetter.Reply {
            try await fixture.scripts.run(ChangeDeadLetter(keys: .plain, entry: letter, operation, audit: Self.audit, streamCap: Self.cap))
        }
        for bad in ["chat:user:4{p3}", "chat:stream:deadletter{p3}", StreamName.messages + "{p3}x"] {
            await #expect(throws: RedisError.self, "\(bad)") { _ = try await run(.replay(stream: bad)) }
        }
        #expect(try await run(.replay(stream: StreamName.messages)) == .refused(.stale))
        guard case .replayed(let id) = try await run(.replay(stream: shard)) else {
            Issue.record("not replayed")
            return
        }
        #expect(try await fixture.entries(shard).map(\.id) == [id])
        #expect(try await fixture.redis.send("XLEN", StreamName.deadLetters).integer == 0)
        OperatorScriptTests.expectAudit(try await fixture.auditRows().first, id: 1, action: "deadletter.replay", target: "deadletter", targetID: nil, detail: [
            "deadletter": letter, "stream": shard, "entry": "1-1", "error": "too long", "replayed": id,
        ])
    }

    @Test("admin_account on a tagged layout: the account, its list and counter in the audit's slot, audited in the same run")
    func adminAccountInAuditSlot() async throws {
        let fixture = try OperatorScriptTests.Fixture()
        defer { Task { await fixture.shutdown() } }
        let cli = OperatorAudit(admin: "cli", address: "", now: Self.now)
        let keys = [Self.keys.admin("root"), Self.keys.admins, Self.keys.adminIDs, Self.keys.adminAudit, Self.keys.adminAuditIDs, Self.keys.auditStream]
        #expect(Set(keys.map { HashSlot(key: $0) }).count == 1, "\(keys)")
        let reply = try await fixture.scripts.run(ChangeAdminAccount(
            keys: Self.keys, name: "root", passwordHash: "$2b$12$first", enabled: nil, audit: cli, streamCap: Self.cap
        ))
        #expect(reply == .changed(.created, id: 1))
        #expect(try await fixture.redis.send("HGET", Self.keys.admin("root"), "password").string == "$2b$12$first")
        #expect(try await fixture.redis.send("ZSCORE", Self.keys.admins, "root").string == "1")
        #expect(try await fixture.redis.send("GET", Self.keys.adminIDs).string == "1")
        #expect(try await fixture.redis.send("EXISTS", RedisKeys.admin("root"), RedisKeys.admins, RedisKeys.adminAudit).integer == 0)
        OperatorScriptTests.expectAudit(
            try await Self.auditRows(fixture).first, id: 1, admin: "cli", action: "admin.create", target: "admin", targetID: 1, address: "",
            detail: ["name": "root", "status": 1]
        )
        #expect(try await fixture.entries(Self.keys.auditStream).map { $0.fields["entity"] ?? "" } == ["admin", "admin_audit"])
    }
}
