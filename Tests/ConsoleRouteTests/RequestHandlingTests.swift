import Testing

@testable import Console

/// Forms, flashes, tokens, paging: what the routes rely on to read requests safely.
@Suite struct RequestHandlingTests {
    @Test("form bodies: percent escapes, '+' as a space, the first of repeated fields")
    func formParsing() {
        let input = RequestInput.form("username=a+b%2Bc&nickname=%E5%B0%8F%E6%98%8E&username=second&empty=&csrf=t%3D")
        #expect(input["username"] == "a b+c")
        #expect(input["nickname"] == "小明")
        #expect(input["empty"] == "")
        #expect(input.trimmed("empty") == nil)
        #expect(input["csrf"] == "t=")
        #expect(!input.isJSON)
    }

    @Test("JSON bodies: numbers and booleans as text, a non-object refused")
    func jsonParsing() throws {
        let input = try RequestInput.json(Array(#"{"status":2,"admin_reply":"好","flag":true,"skip":null}"#.utf8))
        #expect(input["status"] == "2")
        #expect(input["admin_reply"] == "好")
        #expect(input["flag"] == "1")
        #expect(input["skip"] == nil)
        #expect(input.isJSON)
        #expect(throws: ConsoleFailure.self) { try RequestInput.json(Array("[1]".utf8)) }
    }

    @Test("flash codes round-trip, and an unknown code shows nothing")
    func flashCodes() {
        for flash: FlashMessage in [.success(.replayed), .failure(.usernameTakenByOther), .replayedAll(12)] {
            #expect(FlashMessage(code: flash.code) == flash)
        }
        #expect(FlashMessage.replayedAll(3).text == "已重放 3 条")
        #expect(FlashMessage(code: "ok.<script>") == nil)
        #expect(FlashMessage(code: "all.-1") == nil)
        #expect(FlashMessage(code: "nothing") == nil)
    }

    @Test("tokens: 43 base64url characters, compared whole")
    func tokens() {
        let token = RandomToken.make()
        #expect(token.count == 43)
        #expect(RandomToken.isWellFormed(token))
        #expect(!RandomToken.isWellFormed(token + "x"))
        #expect(!RandomToken.isWellFormed(String(token.dropLast()) + "/"))
        #expect(RandomToken.equal(token, token))
        #expect(!RandomToken.equal(token, RandomToken.make()))
        #expect(!RandomToken.equal("", ""))
        #expect(RandomToken.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("paging is clamped: page from 1, size 1–100")
    func paging() {
        #expect(Paging(query: ["page": "0", "size": "1000"]) == Paging(page: 1, size: 100))
        #expect(Paging(query: ["page": "3"]).offset == 40)
        #expect(Paging(query: ["size": "-5"]).size == 1)
        let page = PageOf(readAhead: [1, 2, 3], paging: Paging(page: 1, size: 2))
        #expect(page.rows == [1, 2] && page.hasNext)
        #expect(!PageOf(readAhead: [1, 2], paging: Paging(page: 1, size: 2)).hasNext)
    }

    @Test("only stream ids reach the dead-letter scripts, only http(s) or local URLs become images")
    func identifiers() {
        #expect(DeadLetter.isEntryID("1700000000000-0"))
        #expect(!DeadLetter.isEntryID("1700000000000"))
        #expect(!DeadLetter.isEntryID("+"))
        #expect(!DeadLetter.isEntryID("1-2-3"))
        #expect(SafeURL.isImage("https://x/a.png") && SafeURL.isImage("/public/uploads/a.png"))
        #expect(!SafeURL.isImage("javascript:alert(1)") && !SafeURL.isImage("//evil/a.png") && !SafeURL.isImage("data:text/html,x"))
        #expect(QueryText.encode("a b&c=小") == "a%20b%26c%3D%E5%B0%8F")
    }
}
