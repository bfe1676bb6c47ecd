import Hummingbird
import Logging

/// Turns a `ConsoleFailure` (and any other error) into the answer the caller expects: the
/// JSON envelope for `/api/`, else a page; unexpected errors are logged and shown as
/// `操作失败，请稍后再试` without their details.
struct FailureMiddleware: RouterMiddleware {
    typealias Context = ConsoleRequestContext
    let pages: PageRenderer
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let failure as ConsoleFailure {
            return answer(failure, request: request, context: context)
        } catch let error as any HTTPResponseError {
            if error.status == .notFound {
                return answer(.missing("页面不存在"), request: request, context: context)
            }
            throw error
        } catch {
            logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return answer(.invalid(ConsoleFailure.serverFailure), request: request, context: context, status: .internalServerError)
        }
    }

    private func answer(
        _ failure: ConsoleFailure, request: Request, context: Context, status: HTTPResponse.Status? = nil
    ) -> Response {
        let status = status ?? {
            switch failure {
            case .unauthenticated: .unauthorized
            case .forbidden: .forbidden
            case .missing: .notFound
            case .invalid: .ok
            }
        }()
        if ConsoleRoutes.isAPI(request) {
            // The JSON API's refusals are 200 like the chat API's; 401/403/404 keep theirs.
            return JSONReply.fail(failure.text, status: status == .internalServerError ? .ok : status)
        }
        if failure == .unauthenticated { return Response(status: .seeOther, headers: [.location: "/login"]) }
        return pages.html(pages.errorPage(failure.text, session: context.session), status: status == .ok ? .badRequest : status)
    }
}
