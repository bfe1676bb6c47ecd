import Hummingbird
import Model

/// The groups' pages (`/groups…`) and JSON API (`/api/groups…`).
struct GroupRoutes: Sendable {
    let directory: GroupDirectory
    let actions: OperatorActions
    let pages: PageResponder

    func register(on router: some RouterMethods<ConsoleRequestContext>) {
        router.get("groups") { request, context -> Response in
            let query = request.query
            let q = query["q"]?.trimmingCharacters(in: .whitespaces) ?? ""
            let paging = Paging(page: query["page"].flatMap { Int($0) } ?? 1)
            let page = try await directory.list(query: q, paging: paging)
            var values = PageRenderer.pager(path: "/groups", query: [("q", q)], paging: paging, hasNext: page.hasNext)
            values["q"] = q
            values["rows"] = page.rows
            return pages.render(request, context, "groups", values, title: "群聊管理", section: .groups)
        }
        router.get("groups/:id") { request, context -> Response in
            guard let (group, members) = try await directory.group(try context.id()) else {
                throw ConsoleFailure.missing(FlashMessage.Failure.missing.text)
            }
            let values: [String: Any] = [
                "id": group.id, "name": group.name, "ownerID": group.ownerID, "members": group.members,
                "statusText": group.statusText, "isActive": group.isActive, "memberRows": members,
            ]
            return pages.render(request, context, "group", values, title: "群聊详情", section: .groups)
        }
        for (enabled, path, flash) in [(false, "disable", FlashMessage.Success.disabled), (true, "enable", .enabled)] {
            router.post("groups/:id/\(path)") { request, context -> Response in
                let (id, audit) = (try context.id(), try context.audit)
                return try await pages.post(success: "/groups/\(id)", failure: "/groups/\(id)", flash: .success(flash)) {
                    try await actions.changeGroup(id, enabled: enabled, by: audit)
                }
            }
            router.post("api/groups/:id/\(path)") { request, context -> Response in
                let (id, audit) = (try context.id(), try context.audit)
                return try await APIAction.run { try await actions.changeGroup(id, enabled: enabled, by: audit) }
            }
        }

        router.get("api/groups") { request, context -> Response in
            let query = request.query
            let page = try await directory.list(query: query["q"]?.trimmingCharacters(in: .whitespaces), paging: Paging(query: query))
            return JSONReply.ok(APIAction.list(page, \.json))
        }
        router.get("api/groups/:id") { request, context -> Response in
            guard let (group, members) = try await directory.group(try context.id()) else {
                return JSONReply.fail(FlashMessage.Failure.missing.text)
            }
            guard case .object(var object) = group.json else { return JSONReply.ok(group.json) }
            object["member_list"] = .array(members.map(\.json))
            return JSONReply.ok(.object(object))
        }
    }
}
