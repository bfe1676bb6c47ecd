import Hummingbird

/// Refuses a state-changing request whose CSRF token is not its session's: the form's
/// hidden `csrf` field, or the JSON API's `X-CSRF-Token` header. 403 with
/// `请求已过期，请刷新页面后重试`. Reads the body once and leaves its fields in the context.
struct CSRFMiddleware: RouterMiddleware {
    typealias Context = ConsoleRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post else { return try await next(request, context) }
        var request = request
        var context = context
        let input = try await RequestInput.read(from: &request)
        context.input = input
        let presented = request.headers[.csrfToken] ?? input["csrf"] ?? ""
        guard let session = context.session, RandomToken.equal(presented, session.csrf) else {
            throw ConsoleFailure.forbidden
        }
        return try await next(request, context)
    }
}
