import Model
import Testing

@Suite("JSON as received")
struct JSONTests {
    @Test("keys keep their order, integers stay integers, text is written as JSON.stringify writes it")
    func roundTrip() throws {
        let text = #"{"z":1,"a":[true,false,null],"中文":"你好/世界","n":-12.5,"big":9007199254740993,"e":{"y":{},"x":[]}}"#
        let value = try JSONParser.parse(text)
        #expect(value.objectValue?.keys == ["z", "a", "中文", "n", "big", "e"])
        #expect(value.objectValue?["big"] == .integer(9_007_199_254_740_993))
        #expect(value.objectValue?["n"] == .double(-12.5))
        #expect(JSONSerializer.string(value) == text)
    }

    @Test("escapes, surrogate pairs and control characters")
    func escapes() throws {
        let value = try JSONParser.parse(#""a\"b\\c\/d\n\t\u4e2d\ud83d\ude00\u0001""#)
        #expect(value == .string("a\"b\\c/d\n\t中😀\u{01}"))
        #expect(JSONSerializer.string(value) == #""a\"b\\c/d\n\t中😀\u0001""#)
        #expect(try JSONParser.parse(#""\ud800x""#) == .string("\u{FFFD}x"))  // lone surrogate
    }

    @Test("numbers", arguments: [
        ("0", JSONValue.integer(0)), ("-0", .integer(0)), ("12", .integer(12)), ("1e3", .double(1000)),
        ("1.5E-2", .double(0.015)), ("99999999999999999999", .double(1e20)),
    ])
    func numbers(text: String, expected: JSONValue) throws {
        #expect(try JSONParser.parse(text) == expected)
    }

    @Test("bad input is an error with a position, never a crash", arguments: [
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{a:1}", "'x'", "01", "1.", ".5", "-", "1e", "tru", "nul",
        "\"abc", "\"\\x\"", "\"\\u12\"", "\"a\u{01}b\"", "[1] 2", "1e999", "{\"a\" 1}", "[\"a\" \"b\"]",
    ])
    func rejects(_ text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
    }

    @Test("nesting is limited")
    func depth() throws {
        let deep = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        let tooDeep = "[" + deep + "]"
        _ = try JSONParser.parse(String(repeating: "[", count: 63) + String(repeating: "]", count: 63))
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(tooDeep) }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(String(repeating: "[", count: 100_000)) }
    }

    @Test("integers from numbers or numeric strings, as the old server accepted")
    func integerValues() {
        #expect(JSONValue.integer(12).integerValue == 12)
        #expect(JSONValue.string("12").integerValue == 12)
        #expect(JSONValue.string(" 7 ").integerValue == 7)
        #expect(JSONValue.double(3).integerValue == 3)
        #expect(JSONValue.double(3.5).integerValue == nil)
        #expect(JSONValue.string("12a").integerValue == nil)
        #expect(JSONValue.string("").integerValue == nil)
        #expect(JSONValue.bool(true).integerValue == nil)
    }

    @Test("objects: subscripts replace in place and remove")
    func objects() {
        var object: JSONObject = ["a": 1, "b": 2]
        object["a"] = "x"
        object["c"] = .null
        object["b"] = nil
        #expect(object.keys == ["a", "c"])
        #expect(JSONSerializer.string(.object(object)) == #"{"a":"x","c":null}"#)
    }
}
