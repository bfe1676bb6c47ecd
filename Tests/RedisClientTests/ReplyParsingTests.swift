@testable import RedisClient
import Testing

/// hiredis' parser writing into the flat tape: every shape of RESP2 reply, split at every
/// byte, comes out as the same tree, and the tape keeps a reply split over reads.
@Suite("Parsing replies into the flat tape")
struct ReplyParsingTests {
    static let replies: [RedisReply] = [
        .status("OK"),
        .error("ERR wrong number of arguments"),
        .integer(-9_223_372_036_854_775_807),
        .integer(42),
        .null,
        .bulk([]),
        .bulk(Array("含\r\n有\u{0}换行".utf8) + [0xFF, 0xFE]),
        .array([]),
        .array([.null, .array([]), .integer(1)]),
        // A stream read: [[stream, [[id, [field, value, …]], [id, nil]]]]
        .array([
            .array([
                .bulk(Array("chat:stream:messages".utf8)),
                .array([
                    .array([.bulk(Array("1-0".utf8)), .array([.bulk(Array("kind".utf8)), .bulk(Array("message".utf8))])]),
                    .array([.bulk(Array("1-1".utf8)), .null]),
                    .array([.bulk(Array("2-0".utf8)), .array([.bulk(Array("data".utf8)), .bulk(Array("{\"a\":[1,2]}".utf8))])]),
                ]),
            ]),
            .array([.bulk(Array("chat:stream:entities".utf8)), .array([])]),
        ]),
        .array([.array([.array([.array([.bulk(Array("deep".utf8))])])]), .bulk(Array("after".utf8))]),
    ]

    static var encoded: [UInt8] { replies.flatMap(encode) }

    @Test("all replies fed at once come out in order, as trees and flat")
    func allAtOnce() throws {
        let reader = HiredisReader()
        let bytes = Self.encoded
        try bytes.withUnsafeBytes { try reader.feed($0) }
        var roots: [Int] = []
        try reader.parse(into: &roots)
        #expect(roots.map { reader.tape.reply(at: $0).reply } == Self.replies)
        reader.removeCompletedReplies()
        #expect(reader.tape.count == 0)
    }

    @Test("fed in two pieces split at every byte, with the completed replies dropped after each read")
    func splitAtEveryByte() throws {
        let bytes = Self.encoded
        for split in 1..<bytes.count {
            #expect(try parse([Array(bytes[..<split]), Array(bytes[split...])]) == Self.replies, "split at \(split)")
        }
    }

    @Test("fed one byte at a time")
    func byteByByte() throws {
        #expect(try parse(Self.encoded.map { [$0] }) == Self.replies)
    }

    @Test("a protocol error is thrown and the reader holds nothing after it")
    func protocolError() throws {
        let reader = HiredisReader()
        var roots: [Int] = []
        try Array("*2\r\n:1\r\n?bogus\r\n".utf8).withUnsafeBytes { try reader.feed($0) }
        #expect(throws: RedisError.self) { try reader.parse(into: &roots) }
        #expect(reader.tape.count == 0)
    }

    @Test("a flat reply navigates like its tree: elements skip nested arrays, strings and integers read in place")
    func navigation() {
        let stream = Self.replies[9]
        let flat = RedisFlatReply(stream)
        #expect(flat.reply == stream)
        let streams = Array(flat.elements(of: flat.root))
        #expect(streams.count == 2)
        let first = Array(flat.elements(of: streams[0]))
        #expect(flat.string(at: first[0]) == "chat:stream:messages")
        let entries = Array(flat.elements(of: first[1]))
        #expect(entries.map { flat.string(at: Array(flat.elements(of: $0))[0]) } == ["1-0", "1-1", "2-0"])
        let deleted = Array(flat.elements(of: entries[1]))
        #expect(flat.kind(at: deleted[1]) == .null)
        #expect(flat.elements(of: deleted[1]).count == 0)
        let fields = Array(flat.elements(of: Array(flat.elements(of: entries[2]))[1]))
        #expect(flat.byteRange(at: fields[1]).map { Array(flat.bytes[$0]) } == Array("{\"a\":[1,2]}".utf8))
        #expect(flat.string(at: flat.root) == nil)
        let number = RedisFlatReply(.bulk(Array("-17".utf8)))
        #expect(number.integer(at: number.root) == -17)
        let error = RedisFlatReply(.error("ERR x"))
        #expect(error.errorMessage(at: error.root) == "ERR x")
    }

    /// Feeds the pieces one read at a time, as the decoder does, dropping what completed.
    private func parse(_ pieces: [[UInt8]]) throws -> [RedisReply] {
        let reader = HiredisReader()
        var replies: [RedisReply] = []
        for piece in pieces {
            try piece.withUnsafeBytes { try reader.feed($0) }
            var roots: [Int] = []
            try reader.parse(into: &roots)
            replies += roots.map { reader.tape.reply(at: $0).reply }
            reader.removeCompletedReplies()
        }
        #expect(reader.tape.count == 0)
        return replies
    }

    static func encode(_ reply: RedisReply) -> [UInt8] {
        switch reply {
        case .null: Array("$-1\r\n".utf8)
        case .integer(let value): Array(":\(value)\r\n".utf8)
        case .status(let text): Array("+\(text)\r\n".utf8)
        case .error(let text): Array("-\(text)\r\n".utf8)
        case .bulk(let bytes): Array("$\(bytes.count)\r\n".utf8) + bytes + Array("\r\n".utf8)
        case .array(let elements): Array("*\(elements.count)\r\n".utf8) + elements.flatMap(encode)
        }
    }
}
