import Hummingbird
import Model

/// `GET/POST /login`, `POST /logout`, `POST /api/login`, `POST /api/logout`.
///
/// The login form is protected against cross-site posts by a double submit: `GET /login`
/// sets the `console_login` cookie and puts the same random value in the form's `csrf`
/// field; a POST whose field differs from the cookie is refused (403). The JSON login
/// needs `Content-Type: application/json`, which no cross-site form can send.
struct LoginRoutes: Sendable {
    let login: LoginService
    let sessions: SessionStore
    let pages: PageResponder

    var cookies: SessionCookies { pages.cookies }

    func register(on router: some RouterMethods<ConsoleRequestContext>) {
        router.get("login") { request, context -> Response in
            if let token = request.cookies[SessionCookies.session]?.value, try await sessions.find(token: token) != nil {
                return pages.redirect("/")
            }
            return loginPage(username: "", error: nil)
        }
        router.post("login") { request, context -> Response in
            var request = request
            let input = try await RequestInput.read(from: &request)
            guard let expected = request.cookies[SessionCookies.login]?.value, let presented = input["csrf"],
                  RandomToken.equal(presented, expected)
            else { throw ConsoleFailure.forbidden }
            let username = input.trimmed("username") ?? ""
            do {
                let (token, _) = try await login.logIn(name: username, password: input["password"] ?? "", address: context.clientAddress)
                var response = pages.redirect("/")
                response.setCookie(cookies.set(SessionCookies.session, token))
                response.setCookie(cookies.clear(SessionCookies.login))
                return response
            } catch let failure as ConsoleFailure {
                return loginPage(username: username, error: failure.text)
            }
        }
        router.post("api/login") { request, context -> Response in
            guard request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true else {
                return JSONReply.fail("请使用 application/json")
            }
            var request = request
            let input = try await RequestInput.read(from: &request)
            let (token, session) = try await login.logIn(
                name: input.trimmed("username") ?? "", password: input["password"] ?? "", address: context.clientAddress
            )
            var response = JSONReply.ok(["admin": .string(session.admin), "csrf": .string(session.csrf)])
            response.setCookie(cookies.set(SessionCookies.session, token))
            return response
        }
    }

    /// Behind the session and CSRF middleware.
    func registerLogout(on router: some RouterMethods<ConsoleRequestContext>) {
        router.post("logout") { request, context -> Response in
            try await sessions.destroy(try context.admin)
            var response = pages.redirect("/login")
            response.setCookie(cookies.clear(SessionCookies.session))
            return response
        }
        router.post("api/logout") { request, context -> Response in
            try await sessions.destroy(try context.admin)
            var response = JSONReply.ok(.null)
            response.setCookie(cookies.clear(SessionCookies.session))
            return response
        }
    }

    /// The form with a new double-submit token (a new one each time: a token seen by a
    /// failed attempt's page is not reused).
    private func loginPage(username: String, error: String?) -> Response {
        let token = RandomToken.make()
        var response = pages.renderer.html(pages.renderer.page(
            "login", ["csrf": token, "username": username], title: "管理员登录", section: .none, session: nil, error: error
        ))
        response.setCookie(cookies.set(SessionCookies.login, token, maxAge: 3600))
        return response
    }
}
