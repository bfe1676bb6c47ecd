import Foundation
import MariaDB
import Model
@testable import Persister
import RedisClient
import Testing
import TestSupport

/// Message rows go from the stream into MariaDB byte for byte, through a real persister
/// (its rows are sent with `LOAD DATA LOCAL INFILE`, escaped by ``LoadDataRows``), and
/// once: a redelivered or replayed entry adds no row and loses no revoke.
@Suite("message rows", .serialized, .offCooperativePool)
struct MessageRowsTests {
    static let columns = ["id", "chat_type", "type", "from_id", "to_id", "from_name", "from_avatar", "to_name", "to_avatar",
                          "data", "options", "create_time", "isremove", "version"]

    /// The values the escaping must carry: its own separators and escape, the texts that
    /// spell NULL in LOAD DATA's format, NUL, Ctrl-Z, 4-byte UTF-8, trailing backslashes.
    static let awkward = [
        "tab\there", "line\nbreak", "crlf\r\n", "back\\slash\\", "\\N", "NULL", "\\t not a tab", "nul \u{0} byte",
        "ctrl-z \u{1A}", "emoji 👋🏽🧑‍🤝‍🧑 𠮷", "quotes ' \" `", "", " spaces ", "\\",
    ]

    /// Entry fields as the send script writes them, each text column one of ``awkward``
    /// (rotated by `index`); `options` left out on odd indexes (the row gets `{}`).
    static func fields(_ index: Int) -> [String: String] {
        func text(_ offset: Int) -> String { awkward[(index + offset) % awkward.count] }
        var fields: [String: String] = [
            "v": "1", "kind": "message", "id": "rows-\(String(format: "%03d", index))", "chat_type": index % 3 == 0 ? "group" : "single",
            "type": "t\(text(1))".prefix(30).description, "from_id": "u\(text(2))", "to_id": String(index * 7),
            "from_name": text(3), "from_avatar": text(4), "to_name": text(5), "to_avatar": text(6),
            "data": #"{"data":"\#(text(0))"}"# + text(7), "create_time": String(1_700_000_000_000 + index), "isremove": "0",
        ]
        if index % 2 == 0 { fields["options"] = #"{"o":"\#(text(8))"}"# }
        return fields
    }

    static func expectedRow(_ fields: [String: String], isremove: String = "0") -> [String?] {
        columns.map { column in
            switch column {
            case "options": fields["options"] ?? "{}"
            case "isremove": isremove
            case "version": "1"
            default: fields[column]
            }
        }
    }

    func add(_ entries: [[String: String]], to fixture: DrainFixture) async throws {
        fixture.redisServer.streamsAreWrittenByHand()
        // Dealt out over the shards on a tagged layout.
        let commands = entries.enumerated().map { index, fields in
            RedisCommand("XADD", [fixture.shard(StreamName.messages, index), "*"] + fields.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] as [any RedisArgument] })
        }
        for reply in try await fixture.redis.pipeline(commands) { try reply.throwingOnError() }
    }

    func rows(_ fixture: DrainFixture) throws -> [[String?]] {
        try fixture.database.connect().query("SELECT \(Self.columns.joined(separator: ", ")) FROM message ORDER BY id").map(\.values)
    }

    @Test func awkwardTextsGoInByteForByteAndARedeliveredBatchAddsNothing() async throws {
        try await DrainFixture.with(prefix: "rows") { fixture in
            let messages = (0..<(Self.awkward.count * 2)).map(Self.fields)
            try await add(messages, to: fixture)
            let persister = try fixture.persister(["PERSISTER_BATCH_SIZE": "500"])
            try await eventually(within: 60) { try await fixture.holds(messages: messages.count) }
            let expected = messages.map { Self.expectedRow($0) }
            let written = try rows(fixture)
            #expect(written.count == expected.count)
            for (row, want) in zip(written, expected) {
                for (index, column) in Self.columns.enumerated() where row[index] != want[index] {
                    Issue.record("\(row[0] ?? "?").\(column): \(String(reflecting: row[index])), not \(String(reflecting: want[index]))")
                }
            }

            // The same entries again (a replay, or a batch delivered twice), with a revoke
            // of the first one in the middle, and the revoke once more after them: still one
            // row per message, the revoke kept, nothing else changed.
            var revoke = Self.fields(0)
            revoke["kind"] = "revoke"
            revoke["isremove"] = "1"
            revoke["data"] = #"{"data":"撤回"}"#
            let again = Array(messages[..<5]) + [revoke] + Array(messages[5...]) + [revoke]
            try await add(again, to: fixture)
            try await eventually(within: 60) {
                let read = try await fixture.persisterGroup(on: "chat:stream:messages")["entries-read"]
                guard read == String(messages.count + again.count) else { return false }
                return try await fixture.drained()
            }
            var replayed = expected
            replayed[0] = Self.expectedRow(messages[0], isremove: "1")
            #expect(try rows(fixture) == replayed)
            persister.signal(SIGTERM)
            #expect(persister.waitForExit(timeout: 20) == 0)
        }
    }
}
