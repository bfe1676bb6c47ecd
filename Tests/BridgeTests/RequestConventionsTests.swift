import Hummingbird
import HummingbirdTesting
import Model
import NIOCore
import Testing
import TestSupport

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// docs/api.md *Conventions*: JSON and form bodies, numeric strings, UTF-16 lengths, the token
/// lookup order, and the `fail(…)` envelope for every kind of bad input.
@Suite("Request conventions", .offCooperativePool)
struct RequestConventionsTests {
    static func app() -> some ApplicationProtocol {
        let router = Router()
        router.post("probe") { request, _ -> Response in
            var request = request
            let parameters = try await RequestParameters.read(from: &request)
            let username = try parameters.string("username", length: 4...20)
            let friendID = try parameters.integer("friend_id", in: 1...Int64.max)
            let status = try parameters.optionalString("status").map { _ in try parameters.oneOf("status", ["agree", "refuse"]) }
            return APIResponse.ok([
                "username": .string(username),
                "friend_id": .integer(friendID),
                "status": status.map(JSONValue.string) ?? .null,
                "token": parameters.token.map(JSONValue.string) ?? .null,
            ])
        }
        return Application(router: router)
    }

    static func post(
        _ client: some TestClientProtocol, _ body: String, type: String = "application/json", headers: HTTPFields = [:],
        query: String = ""
    ) async throws -> (HTTPResponse.Status, String) {
        var fields = headers
        fields[.contentType] = type
        return try await client.execute(uri: "/probe" + query, method: .post, headers: fields, body: ByteBuffer(string: body)) {
            ($0.status, String(buffer: $0.body))
        }
    }

    @Test("JSON and form bodies, numbers as numbers or numeric strings")
    func bodies() async throws {
        try await Self.app().test(.router) { client in
            let json = try await Self.post(client, #"{"username":"alice","friend_id":"12"}"#)
            #expect(json.0 == .ok)
            #expect(json.1 == #"{"msg":"ok","data":{"username":"alice","friend_id":12,"status":null,"token":null}}"#)

            let form = try await Self.post(client, "username=%E5%BC%A0%E4%B8%89%E4%B8%B0%E4%B8%B0&friend_id=7&status=agree", type: "application/x-www-form-urlencoded")
            #expect(form.0 == .ok)
            #expect(form.1 == #"{"msg":"ok","data":{"username":"张三丰丰","friend_id":7,"status":"agree","token":null}}"#)

            let plus = try await Self.post(client, "username=a+b+c&friend_id=3", type: "application/x-www-form-urlencoded")
            #expect(plus.1.contains(#""username":"a b c""#))
        }
    }

    @Test("every bad input is fail(…) with a Chinese text, HTTP 400", arguments: [
        (#"{"friend_id":1}"#, "参数username不能为空"),
        (#"{"username":"","friend_id":1}"#, "参数username不能为空"),
        (#"{"username":"abc","friend_id":1}"#, "参数username长度应在4-20之间"),
        (#"{"username":"中文","friend_id":1}"#, "参数username长度应在4-20之间"),
        (#"{"username":"abcdefghijklmnopqrstu","friend_id":1}"#, "参数username长度应在4-20之间"),
        (#"{"username":true,"friend_id":1}"#, "参数username必须是字符串"),
        (#"{"username":"alice"}"#, "参数friend_id不能为空"),
        (#"{"username":"alice","friend_id":"12a"}"#, "参数friend_id必须是整数"),
        (#"{"username":"alice","friend_id":1.5}"#, "参数friend_id必须是整数"),
        (#"{"username":"alice","friend_id":0}"#, "参数friend_id不能小于1"),
        (#"{"username":"alice","friend_id":1,"status":"maybe"}"#, "参数status的值只能是agree、refuse"),
        (#"{"username":"alice","#, "请求参数格式错误"),
        (#"["alice"]"#, "请求参数格式错误"),
    ])
    func failures(body: String, text: String) async throws {
        try await Self.app().test(.router) { client in
            let (status, response) = try await Self.post(client, body)
            #expect(status == .badRequest)
            #expect(response == #"{"msg":"fail","data":"\#(text)"}"#)
        }
    }

    @Test("lengths are UTF-16 code units: an emoji counts 2")
    func utf16Lengths() async throws {
        try await Self.app().test(.router) { client in
            let four = try await Self.post(client, #"{"username":"😀😀","friend_id":1}"#)
            #expect(four.0 == .ok)
            let three = try await Self.post(client, #"{"username":"😀中","friend_id":1}"#)
            #expect(three.1.contains("长度应在4-20之间"))
        }
    }

    @Test("a huge body, invalid UTF-8 and broken escapes are refused, not crashed on")
    func hostileBodies() async throws {
        try await Self.app().test(.router) { client in
            let huge = #"{"username":""# + String(repeating: "a", count: RequestParameters.maximumBodySize) + #""}"#
            let tooLarge = try await Self.post(client, huge)
            #expect(tooLarge == (.badRequest, #"{"msg":"fail","data":"请求数据过大"}"#))
            let badUTF8 = try await client.execute(
                uri: "/probe", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(bytes: Array("username=".utf8) + [0xFF, 0xFE] + Array("&friend_id=1".utf8))
            ) { ($0.status, String(buffer: $0.body)) }
            #expect(badUTF8 == (.badRequest, #"{"msg":"fail","data":"请求参数格式错误"}"#))
            let badEscape = try await Self.post(client, "username=%E4%B&friend_id=1", type: "application/x-www-form-urlencoded")
            #expect(badEscape.1 == #"{"msg":"fail","data":"请求参数格式错误"}"#)
            let deep = try await Self.post(client, String(repeating: "[", count: 10_000))
            #expect(deep.1 == #"{"msg":"fail","data":"请求参数格式错误"}"#)
        }
    }

    @Test("the token: header, else query, else body")
    func tokenOrder() async throws {
        try await Self.app().test(.router) { client in
            let body = #"{"username":"alice","friend_id":1,"token":"from-body"}"#
            let tokenHeader = RequestParameters.tokenHeader
            let fromHeader = try await Self.post(client, body, headers: [tokenHeader: "from-header"], query: "?token=from-query")
            #expect(fromHeader.1.contains(#""token":"from-header""#))
            let fromQuery = try await Self.post(client, body, query: "?token=from-query")
            #expect(fromQuery.1.contains(#""token":"from-query""#))
            let fromBody = try await Self.post(client, body)
            #expect(fromBody.1.contains(#""token":"from-body""#))
        }
    }
}
