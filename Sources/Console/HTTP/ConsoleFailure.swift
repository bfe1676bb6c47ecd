/// Why a console request was refused; every case carries the Chinese text the operator
/// sees (in `#error`, or as `data` of `{"msg":"fail"}`).
enum ConsoleFailure: Error, Equatable {
    /// No (live) session: the login page, or 401 for the JSON API.
    case unauthenticated
    /// The CSRF token is missing or wrong: 403.
    case forbidden
    /// No such record: 404 page, `fail` for the JSON API.
    case missing(String)
    /// A refusal of the operation (validation, a name taken): `fail`.
    case invalid(String)

    static let loginRequired = "请先登录"
    static let expired = "请求已过期，请刷新页面后重试"
    static let serverFailure = "操作失败，请稍后再试"

    var text: String {
        switch self {
        case .unauthenticated: Self.loginRequired
        case .forbidden: Self.expired
        case .missing(let text), .invalid(let text): text
        }
    }
}
