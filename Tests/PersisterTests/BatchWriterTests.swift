import MariaDB
import Model
import RedisClient
@testable import Persister
import Testing
import TestSupport

/// The writer against a real MariaDB: the version guard, tombstones, messages once,
/// revokes before their message, type conversions, replays.
@Suite("batch writer", .offCooperativePool)
struct BatchWriterTests {
    static func entity(_ entity: String, _ op: String = "upsert", id: Int, version: Int, row: String) throws -> PersistableEntry {
        .entity(try EntityChange(fields: ["entity": entity, "op": op, "id": String(id), "version": String(version), "row": row]))
    }

    static func message(_ id: String, kind: String = "message", text: String = "hi", time: Int64 = 1_700_000_000_000) throws -> PersistableEntry {
        var fields = Dictionary(uniqueKeysWithValues: stride(from: 0, to: 28, by: 2).map {
            let list = DrainFixture.messageFields(id: id, text: text, time: time)
            return (list[$0], list[$0 + 1])
        })
        fields["kind"] = kind
        if kind == "revoke" {
            fields["type"] = "systemNotice"
            fields["isremove"] = "1"
            fields["data"] = #"{"data":"撤回了一条消息"}"#
            fields["create_time"] = String(time + 5000)
        }
        return .message(try MessageRecord(fields: fields))
    }

    /// A writer on a migrated database; `loadsMessages: false` is the writer of a server
    /// whose `local_infile` is off.
    static func withWriter(loadsMessages: Bool = true, _ body: (MariaDBConnection, BatchWriter) throws -> Void) async throws {
        try await MariaDBTestDatabase.with(prefix: "writer", create: false) { database in
            _ = try Migrator(logger: MariaDBTestDatabase.logger).migrate(database: database.name, on: try database.connectToServer())
            var configuration = database.configuration
            configuration.localData = loadsMessages
            let connection = try MariaDBConnection(configuration: configuration, logger: MariaDBTestDatabase.logger)
            try BatchWriter.prepare(connection)
            #expect(try BatchWriter.serverLoadsLocalData(connection))
            let writer = BatchWriter(schema: try TableSchema.load(from: connection), loadsMessages: loadsMessages)
            try body(connection, writer)
        }
    }

    static func friendRow(id: Int, nickname: String, isblack: Int = 0) -> String {
        #"{"id":\#(id),"user_id":1,"friend_id":\#(id + 1000),"nickname":"\#(nickname)","friendlookme":1,"melookfriend":1,"ismystarfriend":0,"isblack":\#(isblack),"status":1,"order":50,"create_time":"2026-11-21 10:00:00","update_time":"2026-11-21 10:00:00"}"#
    }

    @Test func anOlderChangeNeverOverwritesANewerOne() async throws {
        try await Self.withWriter { connection, writer in
            try writer.write([try Self.entity("goodfriend", id: 7, version: 3, row: Self.friendRow(id: 7, nickname: "三"))], on: connection)
            try writer.write([
                try Self.entity("goodfriend", id: 7, version: 2, row: Self.friendRow(id: 7, nickname: "二")),
                try Self.entity("goodfriend", id: 7, version: 1, row: Self.friendRow(id: 7, nickname: "一")),
            ], on: connection)
            let row = try #require(try connection.query("SELECT nickname, version FROM goodfriend WHERE id = 7").first)
            #expect(row[0] == "三" && row[1] == "3")
            try writer.write([try Self.entity("goodfriend", id: 7, version: 4, row: Self.friendRow(id: 7, nickname: "四", isblack: 1))], on: connection)
            let newer = try #require(try connection.query("SELECT nickname, isblack, version FROM goodfriend WHERE id = 7").first)
            #expect(newer.values == ["四", "1", "4"])
        }
    }

    @Test func aDeleteLeavesATombstoneThatOlderUpsertsCannotPass() async throws {
        try await Self.withWriter { connection, writer in
            let create = try Self.entity("goodfriend", id: 9, version: 1, row: Self.friendRow(id: 9, nickname: "a"))
            let delete = try Self.entity("goodfriend", "delete", id: 9, version: 2, row: Self.friendRow(id: 9, nickname: "a"))
            try writer.write([create, delete], on: connection)
            #expect(try connection.query("SELECT id FROM goodfriend WHERE id = 9").isEmpty)
            // The whole history replayed, in order and backwards: the row stays deleted.
            try writer.write([create, delete], on: connection)
            try writer.write([delete, create], on: connection)
            try writer.write([create], on: connection)
            #expect(try connection.query("SELECT id FROM goodfriend WHERE id = 9").isEmpty)
            #expect(try connection.query("SELECT version FROM entity_tombstone WHERE entity = 'goodfriend' AND id = 9").first?[0] == "2")
            // A delete older than the row does not remove it.
            try writer.write([try Self.entity("goodfriend", id: 10, version: 5, row: Self.friendRow(id: 10, nickname: "b"))], on: connection)
            try writer.write([try Self.entity("goodfriend", "delete", id: 10, version: 4, row: "{}")], on: connection)
            #expect(try connection.query("SELECT version FROM goodfriend WHERE id = 10").first?[0] == "5")
        }
    }

    @Test func aClashOnAnotherUniqueKeyLeavesTheOtherRowAlone() async throws {
        try await Self.withWriter { connection, writer in
            func user(_ id: Int, _ name: String) -> String {
                #"{"id":\#(id),"uuid":"uuid-\#(id)","username":"\#(name)","password":"x","nickname":"","avatar":"","role":"user","status":1,"order":50,"create_time":"2026-11-21 10:00:00","update_time":"2026-11-21 10:00:00"}"#
            }
            try writer.write([try Self.entity("user", id: 2, version: 1, row: user(2, "bob"))], on: connection)
            // User 1's old snapshot (it was called bob before user 2 took the name), replayed
            // after user 1 was deleted: it must not touch user 2.
            try writer.write([try Self.entity("user", "delete", id: 1, version: 3, row: "{}")], on: connection)
            try writer.write([try Self.entity("user", id: 1, version: 4, row: user(1, "bob"))].compactMap { $0 }, on: connection)
            let rows = try connection.query("SELECT id, username, uuid FROM user ORDER BY id").map(\.values)
            #expect(rows == [["2", "bob", "uuid-2"]])
        }
    }

    @Test func rowTypesAreConvertedAsTheScriptsWriteThem() async throws {
        try await Self.withWriter { connection, writer in
            let row = #"{"id":5,"uuid":"u5","username":"wang","password":"$2b$04$abc","nickname":"王\n'\"\\","avatar":"a/b.png","devicefingeruuid":null,"userset":{"chatset":{"visitor":{"sendCount":0}}},"invite_confirm":1,"status":1,"last_login":"2026-11-21T14:41:28.123Z","register_time":"2026-11-21T14:00:00.000Z","is_deleted":0,"role":"user","order":50,"create_time":"2026-11-21 22:00:00","update_time":"2026-11-21 22:41:28","_v":7,"unknown_key":"ignored"}"#
            try writer.write([try Self.entity("user", id: 5, version: 7, row: row)], on: connection)
            let stored = try #require(try connection.query("SELECT nickname, userset, last_login, register_time, create_time, devicefingeruuid, version, invite_confirm FROM user WHERE id = 5").first)
            #expect(stored.values == [
                "王\n'\"\\", #"{"chatset":{"visitor":{"sendCount":0}}}"#, "2026-11-21 14:41:28.123", "2026-11-21 14:00:00.000",
                "2026-11-21 22:00:00", nil, "7", "1",
            ])
        }
    }

    @Test(arguments: [true, false])
    func messagesAreInsertedOnceAndARevokeMayComeFirst(loadsMessages: Bool) async throws {
        try await Self.withWriter(loadsMessages: loadsMessages) { connection, writer in
            let first = try Self.message("m-1", text: "一")
            let second = try Self.message("m-2", text: "二")
            let revoke = try Self.message("m-2", kind: "revoke")
            // The revoke of m-2 before m-2 itself (a replay, or a claimed entry).
            try writer.write([revoke], on: connection)
            try writer.write([first, second], on: connection)
            try writer.write([first, second, revoke, first], on: connection)
            let rows = try connection.query("SELECT id, data, isremove, create_time, type, version FROM message ORDER BY id").map(\.values)
            #expect(rows == [
                ["m-1", #"{"data":"一"}"#, "0", "1700000000000", "text", "1"],
                ["m-2", #"{"data":"二"}"#, "1", "1700000000000", "text", "1"],
            ])
        }
    }

    @Test func badEntriesAreRefusedWithAReason() throws {
        #expect(throws: EntryError.self) { try EntityChange(fields: ["entity": "nope", "op": "upsert", "id": "1", "version": "1", "row": "{}"]) }
        #expect(throws: EntryError.self) { try EntityChange(fields: ["entity": "user", "op": "upsert", "id": "1", "version": "1", "row": "{not json"]) }
        #expect(throws: EntryError.self) { try EntityChange(fields: ["entity": "user", "op": "merge", "id": "1", "version": "1", "row": "{}"]) }
        #expect(throws: EntryError.self) { try MessageRecord(fields: ["kind": "message", "id": "x", "chat_type": "bogus", "to_id": "1", "create_time": "1", "from_id": "1", "data": "{}"]) }
        #expect(throws: EntryError.self) { try MessageRecord(fields: ["kind": "message", "id": "x", "chat_type": "single", "to_id": "-1", "create_time": "1", "from_id": "1", "data": "{}"]) }
    }

    @Test func aMessageEntryIsReadWhereTheStreamReplyHoldsIt() throws {
        func integer(_ text: String) -> Int64? { MessageRecord.integer(Array(text.utf8)[...]) }
        #expect(integer("1700000000000") == 1_700_000_000_000)
        #expect(integer("-12") == -12 && integer("+7") == 7 && integer("9223372036854775807") == Int64.max)
        for bad in ["", "-", "12a", " 1", "1.0", "9223372036854775808", "99999999999999999999"] {
            #expect(integer(bad) == nil, "\(bad)")
        }
        // An entry inside a stream reply: values found by name as bytes, a field given
        // twice keeps its last value, unknown fields ignored, `options` missing.
        func bulk(_ text: String) -> RedisReply { .bulk(Array(text.utf8)) }
        let fields = ["kind", "message", "id", "m-1", "chat_type", "group", "to_id", "7", "from_id", "3", "unknown", "x",
                      "data", "{\"a\":\"it's\"}", "create_time", "1", "create_time", "1700000000123", "isremove", "0"]
        let reply = RedisFlatReply(.array([.array([bulk("1-0"), .array(fields.map(bulk))])]))
        let entries = StreamEntry.entries(of: "chat:stream:messages", kind: StreamName.messages, in: reply, at: reply.root)
        #expect(entries.map(\.id) == ["1-0"])
        let record = try MessageRecord(try #require(entries.first).fields)
        #expect(record.kind == .message && record.id == "m-1" && record.chatType == .group && record.toID == 7)
        #expect(record.createTime == 1_700_000_000_123 && !record.isRemoved && record.options == nil)
        #expect(String(decoding: record.source[record.data], as: UTF8.self) == #"{"a":"it's"}"#)
        #expect(String(decoding: record.source[record.fromID], as: UTF8.self) == "3" && record.fromName.isEmpty)
        #expect(throws: EntryError.self) { try MessageRecord(fields: ["kind": "messagex", "id": "x", "chat_type": "single", "to_id": "1", "create_time": "1", "from_id": "1", "data": "{}"]) }
        #expect(throws: EntryError.self) { try MessageRecord(fields: ["kind": "message", "id": "a b", "chat_type": "single", "to_id": "1", "create_time": "1", "from_id": "1", "data": "{}"]) }
    }
}
