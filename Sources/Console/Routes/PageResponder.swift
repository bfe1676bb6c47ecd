import ChatScripts
import Foundation
import Hummingbird
import Model

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

extension ConsoleRequestContext {
    /// Who changes what, from where, when: the audit row's `admin`, `address`, `create_time`.
    var audit: OperatorAudit {
        get throws {
            OperatorAudit(admin: try admin.admin, address: clientAddress ?? "", now: RowTime.now())
        }
    }

    /// The route's `{id}` as a positive integer; else the page is missing.
    func id() throws -> Int {
        guard let id = parameters.get("id", as: Int.self), id > 0 else { throw ConsoleFailure.missing(FlashMessage.Failure.missing.text) }
        return id
    }
}

extension Request {
    /// The query's parameters, the first value of each.
    var query: [String: String] {
        Dictionary(uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { first, _ in first })
    }
}

/// The rows' time format, `YYYY-MM-DD HH:mm:ss` in local time (docs/api.md).
enum RowTime {
    static func now() -> String {
        var time = time_t(Date().timeIntervalSince1970.rounded(.down))
        var parts = tm()
        localtime_r(&time, &parts)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec)
        )
    }
}
