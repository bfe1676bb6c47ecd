import Hummingbird
import Model

/// The chat users' pages (`/users…`) and their JSON API (`/api/users…`).
struct UserRoutes: Sendable {
    let directory: UserDirectory
    let actions: OperatorActions
    let pages: PageResponder

    func register(on router: some RouterMethods<ConsoleRequestContext>) {
        router.get("users") { request, context -> Response in
            let query = request.query
            let q = query["q"]?.trimmingCharacters(in: .whitespaces) ?? ""
            let paging = Paging(page: query["page"].flatMap { Int($0) } ?? 1)
            let page = try await directory.list(query: q, paging: paging)
            var values = PageRenderer.pager(path: "/users", query: [("q", q)], paging: paging, hasNext: page.hasNext)
            values["q"] = q
            values["rows"] = page.rows.map(Self.row)
            return pages.render(request, context, "users", values, title: "即时通讯用户管理", section: .users)
        }
        router.get("users/new") { request, context -> Response in
            let values: [String: Any] = ["isNew": true, "action": "/users", "username": "", "nickname": "", "avatar": ""]
            return pages.render(request, context, "user-form", values, title: "新增即时通讯用户", section: .users)
        }
        router.post("users") { request, context -> Response in
            let audit = try context.audit
            return try await pages.post(success: "/users", failure: "/users/new", flash: .success(.created)) {
                _ = try await actions.createUser(UserForm(input: context.fields), by: audit)
            }
        }
        router.get("users/:id") { request, context -> Response in
            let id = try context.id()
            guard let user = try await directory.user(id) else { throw ConsoleFailure.missing(FlashMessage.Failure.userMissing.text) }
            var values = Self.row(user)
            values["isNew"] = false
            values["action"] = "/users/\(id)"
            values["canDisable"] = user.isActive
            values["canEnable"] = !user.isDeleted && !user.isActive
            values["canDelete"] = !user.isDeleted
            return pages.render(request, context, "user-form", values, title: "修改即时通讯用户", section: .users)
        }
        router.post("users/:id") { request, context -> Response in
            let (id, audit) = (try context.id(), try context.audit)
            return try await pages.post(success: "/users/\(id)", failure: "/users/\(id)", flash: .success(.updated)) {
                try await actions.editUser(id, UserForm(input: context.fields), by: audit)
            }
        }
        for (change, flash) in [(OperatorActions.UserStatusChange.disable, FlashMessage.Success.disabled), (.enable, .enabled), (.delete, .deleted)] {
            router.post("users/:id/\(change.rawValue)") { request, context -> Response in
                let (id, audit) = (try context.id(), try context.audit)
                return try await pages.post(success: "/users/\(id)", failure: "/users/\(id)", flash: .success(flash)) {
                    try await actions.changeUser(id, change, by: audit)
                }
            }
            router.post("api/users/:id/\(change.rawValue)") { request, context -> Response in
                let (id, audit) = (try context.id(), try context.audit)
                return try await APIAction.run { try await actions.changeUser(id, change, by: audit) }
            }
        }

        router.get("api/users") { request, context -> Response in
            let query = request.query
            let page = try await directory.list(query: query["q"]?.trimmingCharacters(in: .whitespaces), paging: Paging(query: query))
            return JSONReply.ok(APIAction.list(page, \.json))
        }
        router.post("api/users") { request, context -> Response in
            let audit = try context.audit
            return try await APIAction.run {
                let id = try await actions.createUser(UserForm(input: context.fields), by: audit)
                return try await directory.user(id)?.json ?? .integer(Int64(id))
            }
        }
        router.get("api/users/:id") { request, context -> Response in
            guard let user = try await directory.user(try context.id()) else { return JSONReply.fail(FlashMessage.Failure.userMissing.text) }
            return JSONReply.ok(user.json)
        }
        router.post("api/users/:id") { request, context -> Response in
            let (id, audit) = (try context.id(), try context.audit)
            return try await APIAction.run {
                try await actions.editUser(id, APIAction.completed(context.fields, with: try await directory.user(id)), by: audit)
                return try await directory.user(id)?.json ?? .null
            }
        }
    }

    static func row(_ user: UserSummary) -> [String: Any] {
        [
            "id": user.id, "username": user.username, "nickname": user.nickname, "avatar": user.avatar,
            "hasAvatar": !user.avatar.isEmpty && SafeURL.isImage(user.avatar), "statusText": user.statusText,
            "createTime": user.createTime,
        ]
    }
}
