import Hummingbird
import Model

/// The JSON API's side of an action: `{"msg":"ok","data":…}`, or a refusal as
/// `{"msg":"fail","data":"中文"}` (HTTP 200, as the chat API's clients expect).
enum APIAction {
    static func run(_ action: () async throws -> JSONValue) async throws -> Response {
        do {
            return JSONReply.ok(try await action())
        } catch let refusal as FlashMessage.Failure {
            return JSONReply.fail(refusal.text)
        }
    }

    static func run(_ action: () async throws -> Void) async throws -> Response {
        try await run { () async throws -> JSONValue in
            try await action()
            return .null
        }
    }

    /// `{"list":[…],"page":n,"size":n,"has_next":bool}`.
    static func list<Row>(_ page: PageOf<Row>, _ json: (Row) -> JSONValue) -> JSONValue {
        [
            "list": .array(page.rows.map(json)), "page": .integer(Int64(page.paging.page)),
            "size": .integer(Int64(page.paging.size)), "has_next": .bool(page.hasNext),
        ]
    }

    /// A JSON edit names only the fields it changes: the others are the stored ones, as
    /// the form would have shown them.
    static func completed(_ input: RequestInput, with user: UserSummary?) -> UserForm {
        guard let user else { return UserForm(input: input) }
        var values = input.values
        if values["username"] == nil { values["username"] = user.username }
        if values["nickname"] == nil { values["nickname"] = user.nickname }
        if values["avatar"] == nil { values["avatar"] = user.avatar }
        return UserForm(input: RequestInput(values: values))
    }
}
