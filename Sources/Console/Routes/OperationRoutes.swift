import Hummingbird
import Model

/// The dead letters' and the audit trail's pages and JSON API.
struct OperationRoutes: Sendable {
    let deadLetters: DeadLetterList
    let audit: AuditLog
    let actions: OperatorActions
    let pages: PageResponder

    func register(on router: some RouterMethods<ConsoleRequestContext>) {
        router.get("deadletters") { request, context -> Response in
            let query = request.query
            let paging = Paging(page: query["page"].flatMap { Int($0) } ?? 1)
            let page = try await deadLetters.list(paging: paging, before: query["before"])
            var values = PageRenderer.pager(
                path: "/deadletters", query: [], paging: page.paging, hasNext: page.hasNext,
                extraNext: page.rows.last.map { [("before", $0.id)] } ?? []
            )
            values["rows"] = page.rows
            return pages.render(request, context, "deadletters", values, title: "死信", section: .deadletters)
        }
        router.post("deadletters/replay-all") { request, context -> Response in
            let audit = try context.audit
            let count = try await actions.replayAll(by: audit)
            return pages.redirect("/deadletters", .replayedAll(count))
        }
        router.post("deadletters/:entry/replay") { request, context -> Response in
            let (entry, audit) = (context.parameters.get("entry") ?? "", try context.audit)
            return try await pages.post(success: "/deadletters", failure: "/deadletters", flash: .success(.replayed)) {
                try await actions.replay(entry, by: audit)
            }
        }
        router.post("deadletters/:entry/drop") { request, context -> Response in
            let (entry, audit) = (context.parameters.get("entry") ?? "", try context.audit)
            return try await pages.post(success: "/deadletters", failure: "/deadletters", flash: .success(.dropped)) {
                try await actions.drop(entry, by: audit)
            }
        }
        router.get("audit") { request, context -> Response in
            let paging = Paging(page: request.query["page"].flatMap { Int($0) } ?? 1)
            let page = try await audit.list(paging: paging)
            var values = PageRenderer.pager(path: "/audit", query: [], paging: paging, hasNext: page.hasNext)
            values["rows"] = page.rows
            return pages.render(request, context, "audit", values, title: "操作日志", section: .audit)
        }

        router.get("api/deadletters") { request, context -> Response in
            let query = request.query
            let page = try await deadLetters.list(paging: Paging(query: query), before: query["before"])
            return JSONReply.ok(APIAction.list(page, \.json))
        }
        router.post("api/deadletters/replay-all") { request, context -> Response in
            let audit = try context.audit
            return JSONReply.ok(["replayed": .integer(Int64(try await actions.replayAll(by: audit)))])
        }
        router.post("api/deadletters/:entry/replay") { request, context -> Response in
            let (entry, audit) = (context.parameters.get("entry") ?? "", try context.audit)
            return try await APIAction.run { try await actions.replay(entry, by: audit) }
        }
        router.post("api/deadletters/:entry/drop") { request, context -> Response in
            let (entry, audit) = (context.parameters.get("entry") ?? "", try context.audit)
            return try await APIAction.run { try await actions.drop(entry, by: audit) }
        }
        router.get("api/audit") { request, context -> Response in
            JSONReply.ok(APIAction.list(try await audit.list(paging: Paging(query: request.query)), \.raw))
        }
    }
}
