import ChatGateway
import Hummingbird

/// Answers whatever a feature's routes throw in that feature's failure form, in one
/// place: a refusal (`APIFailure`) with its text; anything else (Redis unreachable, a
/// script answering something unexpected) is logged and answered `系统异常，请稍后再试`,
/// since a script wrote either nothing or everything. The `/api/chat` token checks run
/// before it (`ChatAuthMiddleware`) and answer `fail(…)` in every feature.
struct FailureMiddleware: RouterMiddleware {
    typealias Context = BridgeRequestContext

    static let systemError = "系统异常，请稍后再试"

    /// How a feature answers a failure.
    enum Form: Sendable {
        /// `fail(text)`: HTTP 400 `{"msg":"fail","data":"<text>"}` (`APIFailure`).
        case fail
        /// HTTP 400 `{"msg":"<text>","data":{}}` (`ComplaintFailure`).
        case complaint
        /// HTTP 200 `{"code":400|500,"msg":"<text>"}` (`AskAnswerFailure`).
        case askAnswer

        /// The answer to a refusal.
        func refusal(_ text: String) -> any Error {
            switch self {
            case .fail: APIFailure(text)
            case .complaint: ComplaintFailure(text: text)
            case .askAnswer: AskAnswerFailure(code: 400, text)
            }
        }

        /// The answer to anything unexpected.
        func unexpected(_ text: String) -> any Error {
            switch self {
            case .fail: APIFailure(text)
            case .complaint: ComplaintFailure(text: text)
            case .askAnswer: AskAnswerFailure(code: 500, text)
            }
        }

        /// A failure the routes already threw in this form (a Q&A refusal with its own
        /// code) goes out as it is.
        func isOwn(_ error: any Error) -> Bool {
            switch self {
            case .fail: false
            case .complaint: false
            case .askAnswer: error is AskAnswerFailure
            }
        }
    }

    let form: Form
    /// Names the feature in the log (`friends: request failed`).
    let feature: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let failure where form.isOwn(failure) {
            throw failure
        } catch let failure as APIFailure {
            throw form.refusal(failure.text)
        } catch {
            context.logger.error("\(feature): request failed", metadata: ["error": "\(error)"])
            throw form.unexpected(Self.systemError)
        }
    }
}
