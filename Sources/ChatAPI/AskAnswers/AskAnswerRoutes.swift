import ChatGateway
import Foundation
import Hummingbird
import Model

/// docs/api.md *Complaints and Q&A*: `askanswer/{create,update,delete,list,detail,search}`, a
/// user's question/answer pairs for the automatic replies (`AutoReplier`). They answer
/// HTTP 200 always, with `{code, msg, data?}`: `code` 200, 400 (`参数不完整`, or a
/// parameter's text), 404 (`问答不存在`, `暂无问答数据`, `未找到相关问答`) or 500.
///
/// Only the owner changes a row (another's is `问答不存在`). Reading is open to every
/// user: `list` and `search` take whose pairs in `create_userId` (default: mine), so a
/// client can show the questions of the user it chats with; `detail` takes an `id`.
package struct AskAnswerRoutes: Sendable {
    static let created = "创建成功"
    static let updated = "更新成功"
    static let deleted = "删除成功"
    static let fetched = "获取成功"
    static let found = "搜索成功"
    static let incomplete = "参数不完整"
    static let notFound = "问答不存在"
    static let empty = "暂无问答数据"
    static let noMatch = "未找到相关问答"
    static let tooMany = "问答数量已达上限"

    static let ids: ClosedRange<Int64> = 1...Int64(UInt32.max)
    /// The limits table's (`StoredLimits.AskAnswer`): `answer` counts bytes.
    static let askLength = 1...StoredLimits.AskAnswer.ask.maximum
    static let typeLength = 1...StoredLimits.AskAnswer.type.maximum

    let store: AskAnswerStore
    var matcher = QuestionMatcher()

    func register(chat: some RouterMethods<BridgeRequestContext>) {
        let chat = chat.group().add(middleware: FailureMiddleware(form: .askAnswer, feature: "askanswer"))
        chat.post("askanswer/create") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            for required in ["ask", "answer"] where !parameters.isGiven(required) {
                throw AskAnswerFailure(code: 400, Self.incomplete)
            }
            let ask = try parameters.string("ask", length: Self.askLength)
            let answer = try parameters.string("answer", within: StoredLimits.AskAnswer.answer)
            let type = try parameters.optionalString("type", length: Self.typeLength) ?? ""
            let row = try await Self.refusing([.full: (400, Self.tooMany)]) {
                try await store.create(ask: ask, answer: answer, type: type, by: caller.user.id, now: Date())
            }
            return Self.success(Self.created, row.json)
        }

        chat.post("askanswer/update") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            guard parameters.isGiven("id"), ["ask", "answer", "type"].contains(where: { parameters[$0] != nil }) else {
                throw AskAnswerFailure(code: 400, Self.incomplete)
            }
            let id = Int(try parameters.integer("id", in: Self.ids))
            var changes = JSONObject()
            if parameters.isGiven("ask") { changes["ask"] = .string(try parameters.string("ask", length: Self.askLength)) }
            if parameters.isGiven("answer") { changes["answer"] = .string(try parameters.string("answer", within: StoredLimits.AskAnswer.answer)) }
            // `type` may be emptied (its column's default).
            if parameters["type"] != nil { changes["type"] = .string(try parameters.optionalString("type", length: Self.typeLength) ?? "") }
            guard !changes.members.isEmpty else { throw AskAnswerFailure(code: 400, Self.incomplete) }
            let row = try await Self.refusing([.missing: (404, Self.notFound)]) {
                try await store.update(id, by: caller.user.id, changes: changes, now: Date())
            }
            return Self.success(Self.updated, row.json)
        }

        chat.post("askanswer/delete") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let id = try Self.id(parameters)
            _ = try await Self.refusing([.missing: (404, Self.notFound)]) {
                try await store.delete(id, by: caller.user.id, now: Date())
            }
            return Self.success(Self.deleted, nil)
        }

        chat.post("askanswer/list") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let owner = try Self.owner(parameters, caller)
            let type = try parameters.optionalString("type", length: Self.typeLength)
            let rows = try await store.rows(of: owner).filter { type == nil || $0.type == type }
            guard !rows.isEmpty else { throw AskAnswerFailure(code: 404, Self.empty) }
            return Self.success(Self.fetched, .array(rows.map(\.json)))
        }

        chat.post("askanswer/detail") { request, context -> Response in
            let (parameters, _) = try await context.caller(of: request)
            let id = try Self.id(parameters)
            guard let row = try await store.row(id) else { throw AskAnswerFailure(code: 404, Self.notFound) }
            return Self.success(Self.fetched, row.json)
        }

        chat.post("askanswer/search") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            guard parameters.isGiven("ask") else { throw AskAnswerFailure(code: 400, Self.incomplete) }
            let keyword = try parameters.string("ask", length: Self.askLength)
            let owner = try Self.owner(parameters, caller)
            let rows = try await store.rows(of: owner)
            let hits = Self.search(keyword, in: rows, matcher: matcher)
            guard !hits.isEmpty else { throw AskAnswerFailure(code: 404, Self.noMatch) }
            return Self.success(Self.found, .array(hits.map(\.json)))
        }
    }

    /// `search`: the rows whose ask or answer contains the keyword, or whose ask is
    /// close to it (`QuestionMatcher`), best first (ties: oldest first).
    static func search(_ keyword: String, in rows: [AskAnswerRow], matcher: QuestionMatcher) -> [AskAnswerRow] {
        let scored = rows.compactMap { row -> (row: AskAnswerRow, score: Double)? in
            let score = QuestionMatcher.score(keyword, row.ask)
            if score >= matcher.threshold || QuestionMatcher.contains(row.ask, keyword) { return (row, max(score, matcher.threshold)) }
            if QuestionMatcher.contains(row.answer, keyword) { return (row, 0) }
            return nil
        }
        return scored.sorted { $0.score != $1.score ? $0.score > $1.score : $0.row.id < $1.row.id }.map(\.row)
    }

    // MARK: Parameters

    // Not inlined: a Swift 6.3.1 release-build crash (docs/architecture.md, *Modules*).
    @inline(never)
    private static func id(_ parameters: RequestParameters) throws -> Int {
        guard parameters.isGiven("id") else { throw AskAnswerFailure(code: 400, incomplete) }
        return Int(try parameters.integer("id", in: ids))
    }

    /// Whose pairs `list` and `search` read: `create_userId`, else mine.
    private static func owner(_ parameters: RequestParameters, _ caller: ChatIdentity) throws -> Int {
        Int(try parameters.optionalInteger("create_userId", in: ids) ?? Int64(caller.user.id))
    }

    // MARK: Answers

    private static func success(_ text: String, _ data: JSONValue?) -> Response {
        AskAnswerFailure.body(code: 200, text, data: data)
    }

    /// Runs a change, answering the store's refusals with their codes and texts.
    private static func refusing<Result>(
        _ answers: [AskAnswerStore.Refusal: (code: Int, text: String)], _ change: () async throws -> Result
    ) async throws -> Result {
        do {
            return try await change()
        } catch let refusal as AskAnswerStore.Refusal {
            guard let answer = answers[refusal] else { throw refusal }
            throw AskAnswerFailure(code: answer.code, answer.text)
        }
    }

}

/// A Q&A endpoint's refusal: HTTP 200 (the old server's convention) with `{code, msg}`.
struct AskAnswerFailure: HTTPResponseError {
    let code: Int
    let text: String

    init(code: Int, _ text: String) {
        self.code = code
        self.text = text
    }

    var status: HTTPResponse.Status { .ok }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Self.body(code: code, text, data: nil)
    }

    /// `{code, msg, data?}` with HTTP 200.
    static func body(code: Int, _ text: String, data: JSONValue?) -> Response {
        var object: JSONObject = ["code": .integer(Int64(code)), "msg": .string(text)]
        if let data { object["data"] = data }
        var bytes: [UInt8] = []
        JSONSerializer.write(.object(object), into: &bytes)
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
