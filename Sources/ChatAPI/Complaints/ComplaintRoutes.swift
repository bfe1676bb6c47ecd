import ChatGateway
import Foundation
import Hummingbird
import Model

/// docs/api.md *Complaints and Q&A*: the five complaint endpoints. As the old server did, they
/// answer with their Chinese text in `msg`: success HTTP 200 `{msg, data}`, every failure
/// (missing or invalid parameter, not found, not allowed, Redis trouble) HTTP 400
/// `{msg:<text>, data:{}}`. The token checks before them answer as every `/api/chat` route.
package struct ComplaintRoutes: Sendable {
    static let created = "投诉提交成功"
    static let fetched = "获取成功"
    static let updated = "更新成功"
    static let deleted = "删除成功"
    static let missingParameter = "缺少必要参数"
    static let notFound = "投诉记录不存在"
    static let processing = "该投诉已开始处理，无法修改"
    static let targetMissing = "投诉对象不存在"
    static let selfComplaint = "不能投诉自己"
    static let tooMany = "投诉记录过多，请等待处理或删除后再提交"

    /// The complainant as list items and details show them.
    static let userColumns = ["id", "uuid", "username", "nickname", "avatar"]
    static let ids: ClosedRange<Int64> = 1...Int64(UInt32.max)
    /// The TEXT columns (bytes), from the limits table.
    static let textLimits = [
        "content": StoredLimits.Complaint.content, "images": StoredLimits.Complaint.images,
        "complaint_chatinfo": StoredLimits.Complaint.chatInfo,
    ]

    let store: ComplaintStore

    func register(chat: some RouterMethods<BridgeRequestContext>) {
        let chat = chat.group().add(middleware: FailureMiddleware(form: .complaint, feature: "complaints"))
        chat.post("complaint/create") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let complaint = try Self.newComplaint(parameters)
            guard complaint.targetType == .group || complaint.targetID != caller.user.id else {
                throw APIFailure(Self.selfComplaint)
            }
            let id = try await APIFailure.refusing([ComplaintStore.Refusal.target: Self.targetMissing, .full: Self.tooMany]) {
                try await store.create(complaint, by: caller.user.id, now: Date())
            }
            return Self.success(Self.created, ["id": .integer(Int64(id))])
        }

        chat.get("complaint/list") { request, context -> Response in
            let me = try await context.caller(of: request).identity.user
            let rows = try await store.complaints(of: me.id)
            return Self.success(Self.fetched, .array(rows.map { Self.item($0, of: me) }))
        }

        chat.get("complaint/detail/:id") { request, context -> Response in
            let me = try await context.caller(of: request).identity.user
            let id = try Self.pathID(context)
            guard let row = try await store.complaint(id, reporter: me.id), row.userID == me.id, !row.isDeleted else {
                throw APIFailure(Self.notFound)
            }
            return Self.success(Self.fetched, Self.item(row, of: me))
        }

        chat.post("complaint/update/:id") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let id = try Self.pathID(context)
            var changes = JSONObject()
            for column in ["content", "images"] {
                if let text = try Self.optionalText(parameters, column) { changes[column] = .string(text) }
            }
            guard !changes.members.isEmpty else { throw APIFailure(Self.missingParameter) }
            try await APIFailure.refusing([ComplaintStore.Refusal.missing: Self.notFound, .processing: Self.processing]) {
                try await store.update(id, by: caller.user.id, changes: changes, now: Date())
            }
            return Self.success(Self.updated, [:])
        }

        chat.post("complaint/delete/:id") { request, context -> Response in
            let me = try await context.caller(of: request).identity.user
            let id = try Self.pathID(context)
            try await APIFailure.refusing([ComplaintStore.Refusal.missing: Self.notFound]) {
                try await store.delete(id, by: me.id, now: Date())
            }
            return Self.success(Self.deleted, [:])
        }
    }

    // MARK: Parameters

    private static func newComplaint(_ parameters: RequestParameters) throws(APIFailure) -> ComplaintStore.NewComplaint {
        for required in ["target_id", "target_type", "reason"] where !parameters.isGiven(required) {
            throw APIFailure(missingParameter)
        }
        let targetID = Int(try parameters.integer("target_id", in: ids))
        let targetType = try parameters.oneOf("target_type", ComplaintStore.NewComplaint.TargetType.allCases.map(\.rawValue))
        let reason = try parameters.string("reason", length: 1...StoredLimits.Complaint.reason.maximum)
        var optional = JSONObject()
        if let name = try parameters.optionalString("target_name", length: 1...StoredLimits.Complaint.targetName.maximum) {
            optional["target_name"] = .string(name)
        }
        for column in ["content", "images", "complaint_chatinfo"] {
            if let text = try optionalText(parameters, column) { optional[column] = .string(text) }
        }
        return .init(
            targetID: targetID, targetType: targetType == "group" ? .group : .single, reason: reason, optional: optional
        )
    }

    /// A TEXT column's value: a string as it is; an array or object (a client may send
    /// `images` as a list, `complaint_chatinfo` as the messages) as its JSON text.
    private static func optionalText(_ parameters: RequestParameters, _ name: String) throws(APIFailure) -> String? {
        let limit = textLimits[name] ?? StoredLimits.Complaint.content
        switch parameters[name] {
        case .array, .object:
            let text = JSONSerializer.string(parameters[name] ?? .null)
            guard limit.admits(text) else { throw APIFailure.overLimit(limit, limit.refusal(name)) }
            return text
        default:
            return try parameters.optionalString(name, within: limit)
        }
    }

    private static func pathID(_ context: BridgeRequestContext) throws(APIFailure) -> Int {
        Int(try RequestParameters.pathInteger("id", of: context, in: ids))
    }

    // MARK: Answers

    /// A list item or a detail: the row's columns and the complainant.
    private static func item(_ row: ComplaintRow, of me: UserRow) -> JSONValue {
        var item = row.json
        item["user"] = .object(me.json(userColumns))
        return .object(item)
    }

    private static func success(_ text: String, _ data: JSONValue) -> Response {
        APIResponse.envelope(status: .ok, message: text, data: data)
    }

}

/// A complaint endpoint's failure: HTTP 400 `{msg:<text>, data:{}}`.
struct ComplaintFailure: HTTPResponseError {
    let text: String

    var status: HTTPResponse.Status { .badRequest }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        APIResponse.envelope(status: .badRequest, message: text, data: [:])
    }
}
