import Hummingbird
import Mustache
import NIOCore

/// Renders the console's pages from the Mustache templates (`Templates`): a page's body,
/// then the frame around it (nav, the operator's name, the flash). Values are
/// HTML-escaped by Mustache, so what users typed (nicknames, complaint texts) is shown
/// as text, never as markup.
struct PageRenderer: Sendable {
    private let library: MustacheLibrary

    /// Which nav link is the current one.
    enum Section: String, Sendable {
        case dashboard, users, complaints, groups, deadletters, audit, none
    }

    init() {
        var library = MustacheLibrary()
        for (name, text) in Templates.all {
            // The templates are constants of this program: a parse error is a defect.
            do { try library.register(text, named: name) } catch { fatalError("template \(name): \(error)") }
        }
        self.library = library
    }

    /// A whole page: `template` rendered with `values`, in the frame.
    func page(
        _ template: String, _ values: [String: Any], title: String, section: Section, session: AdminSession?,
        flash: FlashMessage? = nil, error: String? = nil
    ) -> String {
        var values = values
        values["csrf"] = values["csrf"] ?? session?.csrf ?? ""
        let body = library.render(values, withTemplate: template) ?? ""
        var frame: [String: Any] = [
            "title": title, "body": body, "csrf": session?.csrf ?? "",
            "nav" + section.rawValue.prefix(1).uppercased() + section.rawValue.dropFirst(): true,
        ]
        if let session { frame["admin"] = session.admin }
        if let flash, !flash.isFailure { frame["flash"] = flash.text }
        if let text = error ?? (flash?.isFailure == true ? flash?.text : nil) { frame["error"] = text }
        return library.render(frame, withTemplate: "layout") ?? ""
    }

    func errorPage(_ text: String, session: AdminSession?) -> String {
        page("error", [:], title: "出错了", section: .none, session: session, error: text)
    }

    func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    /// The pager's values: links to the neighbouring pages of `path` with `query` kept.
    static func pager(path: String, query: [(String, String)], paging: Paging, hasNext: Bool, extraNext: [(String, String)] = []) -> [String: Any] {
        func link(_ page: Int, _ extra: [(String, String)] = []) -> String {
            let items = query.filter { !$0.1.isEmpty } + extra + [("page", String(page))]
            return path + "?" + items.map { "\($0.0)=\(QueryText.encode($0.1))" }.joined(separator: "&")
        }
        var values: [String: Any] = ["page": paging.page]
        if paging.page > 1 { values["prev"] = link(paging.page - 1) }
        if hasNext { values["next"] = link(paging.page + 1, extraNext) }
        return values
    }
}
