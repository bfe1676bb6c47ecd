import Hummingbird

/// Admits only requests with a live session (`SessionStore`) and puts it in the context.
/// Without one, a page redirects to `/login` and the JSON API answers 401.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = ConsoleRequestContext
    let sessions: SessionStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let token = request.cookies[SessionCookies.session]?.value {
            context.session = try await sessions.find(token: token)
        }
        guard context.session != nil else {
            if ConsoleRoutes.isAPI(request) { return JSONReply.fail(ConsoleFailure.loginRequired, status: .unauthorized) }
            return Response(status: .seeOther, headers: [.location: "/login"])
        }
        return try await next(request, context)
    }
}
