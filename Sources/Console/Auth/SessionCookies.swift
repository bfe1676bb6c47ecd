import Hummingbird

/// The console's cookies (docs/console.md, *Security*): all `HttpOnly`, `SameSite=Strict`,
/// `Path=/`, and `Secure` with `--cookie-secure`.
struct SessionCookies: Sendable {
    /// The session's token.
    static let session = "console_session"
    /// The login form's double-submit token, set before any session exists.
    static let login = "console_login"
    /// The outcome of the last POST, shown once by the page it redirected to (`FlashMessage`).
    static let flash = "console_flash"

    let secure: Bool

    func set(_ name: String, _ value: String, maxAge: Int? = nil) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }

    func clear(_ name: String) -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }
}
