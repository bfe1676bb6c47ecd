import Hummingbird

/// Every route of the console, and which of them are behind the login.
struct ConsoleRoutes: Sendable {
    let dependencies: ConsoleDependencies

    static func isAPI(_ request: Request) -> Bool { request.uri.path.hasPrefix("/api/") }

    func router() -> Router<ConsoleRequestContext> {
        let router = Router(context: ConsoleRequestContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: SecurityHeadersMiddleware())
        if dependencies.settings.trustForwardedFor { router.add(middleware: ClientAddressMiddleware()) }
        router.add(middleware: FailureMiddleware(pages: dependencies.pages.renderer, logger: dependencies.logger))
        router.get("static/console.css") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: StyleSheet.text))
            )
        }
        router.get("healthz") { _, _ -> Response in
            JSONReply.ok(["status": "ok"])
        }
        let d = dependencies
        let login = LoginRoutes(login: d.login, sessions: d.sessions, pages: d.pages)
        login.register(on: router)

        let protected = router.group()
            .add(middleware: SessionMiddleware(sessions: d.sessions))
            .add(middleware: CSRFMiddleware())
        login.registerLogout(on: protected)
        DashboardRoutes(reader: DashboardReader(redis: d.redis, keys: d.keys, liveWithinMilliseconds: d.settings.deadAfterMilliseconds), pages: d.pages)
            .register(on: protected)
        UserRoutes(directory: d.users, actions: d.actions, pages: d.pages).register(on: protected)
        ComplaintRoutes(directory: d.complaints, actions: d.actions, pages: d.pages).register(on: protected)
        GroupRoutes(directory: GroupDirectory(redis: d.redis, keys: d.keys), actions: d.actions, pages: d.pages).register(on: protected)
        OperationRoutes(deadLetters: d.deadLetters, audit: AuditLog(redis: d.redis, keys: d.keys), actions: d.actions, pages: d.pages)
            .register(on: protected)
        return router
    }
}
