import HTTPTypes
import Hummingbird

/// A router that remembers what is registered on it: every route goes on to a real
/// `Router` (so registration runs exactly as in the bridge) and is recorded as its method
/// and full path. Groups forward `on` to their parent with the whole path, so routes
/// registered through `router.group(…)` are recorded too.
final class RouteRecorder<Context: RequestContext>: RouterMethods {
    /// A registered route, written as docs/api.md heads it: `POST /api/chat/handleapply/:id`.
    struct Route: Hashable, Comparable, CustomStringConvertible {
        let method: HTTPRequest.Method
        let path: String

        var description: String { "\(method.rawValue) \(path)" }

        static func < (lhs: Route, rhs: Route) -> Bool { lhs.description < rhs.description }
    }

    let router: Router<Context>
    private(set) var routes: [Route] = []

    init(wrapping router: Router<Context> = Router(context: Context.self)) {
        self.router = router
    }

    @discardableResult
    func on<Responder: HTTPResponder>(
        _ path: RouterPath, method: HTTPRequest.Method, responder: Responder
    ) -> Self where Responder.Context == Context {
        routes.append(Route(method: method, path: Self.written(path)))
        router.on(path, method: method, responder: responder)
        return self
    }

    @discardableResult
    func add(middleware: any MiddlewareProtocol<Request, Response, Context>) -> Self {
        router.add(middleware: middleware)
        return self
    }

    /// The path as the router's source writes it: captures as `:name` (a `RouterPath`
    /// describes them as `{name}`), wildcards as they are.
    static func written(_ path: RouterPath) -> String {
        "/" + path.components.map { component -> String in
            let text = component.description
            guard text.count > 2, text.hasPrefix("{"), text.hasSuffix("}") else { return text }
            return ":" + text.dropFirst().dropLast()
        }.joined(separator: "/")
    }
}
