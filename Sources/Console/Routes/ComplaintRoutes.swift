import Hummingbird
import Model

/// The complaints' pages (`/complaints…`) and JSON API (`/api/complaints…`).
struct ComplaintRoutes: Sendable {
    let directory: ComplaintDirectory
    let actions: OperatorActions
    let pages: PageResponder

    func register(on router: some RouterMethods<ConsoleRequestContext>) {
        router.get("complaints") { request, context -> Response in
            let query = request.query
            let status = query["status"].flatMap { Int($0) }.flatMap(ComplaintStatus.init(rawValue:))
            let paging = Paging(page: query["page"].flatMap { Int($0) } ?? 1)
            let page = try await directory.list(status: status, paging: paging)
            var values = PageRenderer.pager(
                path: "/complaints", query: [("status", status.map { String($0.rawValue) } ?? "")], paging: paging, hasNext: page.hasNext
            )
            values["statuses"] = Self.options(selected: status, includingAll: true)
            values["rows"] = page.rows
            return pages.render(request, context, "complaints", values, title: "投诉管理", section: .complaints)
        }
        router.get("complaints/:id") { request, context -> Response in
            guard let complaint = try await directory.complaint(try context.id()) else {
                throw ConsoleFailure.missing(FlashMessage.Failure.missing.text)
            }
            let values: [String: Any] = [
                "id": complaint.id, "userID": complaint.userID, "reporterName": complaint.reporterName,
                "reporterNickname": complaint.reporterNickname, "targetTypeText": complaint.targetTypeText,
                "targetName": complaint.targetName, "targetID": complaint.targetID, "reason": complaint.reason,
                "statusText": complaint.statusText, "createTime": complaint.createTime, "isDeleted": complaint.isDeleted,
                "content": complaint.content, "images": complaint.images.filter(SafeURL.isImage),
                "chatInfo": complaint.chatInfo.isEmpty ? false : complaint.chatInfo as Any, "adminReply": complaint.adminReply,
                "statuses": Self.options(selected: ComplaintStatus(rawValue: complaint.status), includingAll: false),
            ]
            return pages.render(request, context, "complaint", values, title: "投诉详情", section: .complaints)
        }
        router.post("complaints/:id/reply") { request, context -> Response in
            let (id, audit) = (try context.id(), try context.audit)
            let input = context.fields
            return try await pages.post(success: "/complaints/\(id)", failure: "/complaints/\(id)", flash: .success(.replied)) {
                try await actions.replyToComplaint(id, status: input["status"], reply: input["admin_reply"], by: audit)
            }
        }

        router.get("api/complaints") { request, context -> Response in
            let query = request.query
            let status = query["status"].flatMap { Int($0) }.flatMap(ComplaintStatus.init(rawValue:))
            return JSONReply.ok(APIAction.list(try await directory.list(status: status, paging: Paging(query: query)), \.json))
        }
        router.get("api/complaints/:id") { request, context -> Response in
            guard let complaint = try await directory.complaint(try context.id()) else { return JSONReply.fail(FlashMessage.Failure.missing.text) }
            return JSONReply.ok(complaint.json)
        }
        router.post("api/complaints/:id/reply") { request, context -> Response in
            let (id, audit) = (try context.id(), try context.audit)
            let input = context.fields
            return try await APIAction.run {
                try await actions.replyToComplaint(id, status: input["status"], reply: input["admin_reply"], by: audit)
                return try await directory.complaint(id)?.json ?? .null
            }
        }
    }

    struct Option {
        let value: String
        let label: String
        let selected: Bool
    }

    static func options(selected: ComplaintStatus?, includingAll: Bool) -> [Option] {
        (includingAll ? [Option(value: "", label: "全部", selected: selected == nil)] : [])
            + ComplaintStatus.allCases.map { Option(value: String($0.rawValue), label: $0.label, selected: $0 == selected) }
    }
}
