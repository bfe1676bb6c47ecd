import Hummingbird
import HummingbirdTesting
import Model
import NIOCore
import Testing

@testable import ChatAPI
@testable import ChatGateway

/// The failure forms of the API's features, as `FailureMiddleware` answers them: a
/// refusal with its text, anything unexpected with `系统异常，请稍后再试`.
@Suite("Failure middleware", .offCooperativePool)
struct FailureMiddlewareTests {
    struct Unexpected: Error {}

    static func app(_ form: FailureMiddleware.Form) -> some ApplicationProtocol {
        let router = Router(context: BridgeRequestContext.self)
        let routes = router.group().add(middleware: FailureMiddleware(form: form, feature: "test"))
        routes.post("refused") { _, _ -> Response in throw APIFailure("不行") }
        routes.post("unexpected") { _, _ -> Response in throw Unexpected() }
        routes.post("own") { _, _ -> Response in throw AskAnswerFailure(code: 404, "没有") }
        routes.post("fine") { _, _ -> Response in APIResponse.ok("ok") }
        return Application(router: router)
    }

    static func answer(_ form: FailureMiddleware.Form, _ path: String) async throws -> (HTTPResponse.Status, JSONValue) {
        try await app(form).test(.router) { client in
            try await client.execute(uri: "/" + path, method: .post) { response in
                (response.status, try JSONParser.parse(Array(buffer: response.body)))
            }
        }
    }

    @Test("fail(text): HTTP 400 {msg: fail, data: text}")
    func fail() async throws {
        #expect(try await Self.answer(.fail, "refused") == (.badRequest, ["msg": "fail", "data": "不行"]))
        #expect(try await Self.answer(.fail, "unexpected") == (.badRequest, ["msg": "fail", "data": "系统异常，请稍后再试"]))
        #expect(try await Self.answer(.fail, "fine") == (.ok, ["msg": "ok", "data": "ok"]))
    }

    @Test("complaints: HTTP 400 {msg: text, data: {}}")
    func complaint() async throws {
        #expect(try await Self.answer(.complaint, "refused") == (.badRequest, ["msg": "不行", "data": [:]]))
        #expect(try await Self.answer(.complaint, "unexpected") == (.badRequest, ["msg": "系统异常，请稍后再试", "data": [:]]))
    }

    @Test("Q&A: HTTP 200 {code, msg}, its own refusals as they are")
    func askAnswer() async throws {
        #expect(try await Self.answer(.askAnswer, "refused") == (.ok, ["code": 400, "msg": "不行"]))
        #expect(try await Self.answer(.askAnswer, "unexpected") == (.ok, ["code": 500, "msg": "系统异常，请稍后再试"]))
        #expect(try await Self.answer(.askAnswer, "own") == (.ok, ["code": 404, "msg": "没有"]))
    }
}
