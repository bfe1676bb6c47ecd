import Hummingbird

/// What the page routes share: rendering with the flash of the last POST (read from its
/// cookie and cleared), redirects after a POST (303) carrying the next flash, and the
/// audit's who/where/when of a change.
struct PageResponder: Sendable {
    let renderer: PageRenderer
    let cookies: SessionCookies

    func render(
        _ request: Request, _ context: ConsoleRequestContext, _ template: String, _ values: [String: Any], title: String,
        section: PageRenderer.Section
    ) -> Response {
        let flash = request.cookies[SessionCookies.flash].flatMap { FlashMessage(code: $0.value) }
        var response = renderer.html(renderer.page(template, values, title: title, section: section, session: context.session, flash: flash))
        if request.cookies[SessionCookies.flash] != nil { response.setCookie(cookies.clear(SessionCookies.flash)) }
        return response
    }

    func redirect(_ path: String, _ flash: FlashMessage? = nil) -> Response {
        var response = Response(status: .seeOther, headers: [.location: path])
        if let flash { response.setCookie(cookies.set(SessionCookies.flash, flash.code, maxAge: 60)) }
        return response
    }

    /// Runs a page's POST action: a refusal goes back to `failurePath` with its text in
    /// `#error`, success to `successPath` with `flash` in `#flash`.
    func post(
        success successPath: String, failure failurePath: String, flash: FlashMessage, _ action: () async throws -> Void
    ) async throws -> Response {
        do {
            try await action()
            return redirect(successPath, flash)
        } catch let refusal as FlashMessage.Failure {
            return redirect(failurePath, .failure(refusal))
        }
    }
}
