import Hummingbird
import NIOCore

/// The request context of the console's routes.
struct ConsoleRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?
    /// Set by `SessionMiddleware` on every route behind the login.
    var session: AdminSession?
    /// A POST's fields (form or JSON), read once by `CSRFMiddleware` or the login route.
    var input: RequestInput?

    init(source: Source) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        clientAddress = remoteAddress?.ipAddress
    }

    /// The operator's client address as the audit trail and the lockout record it: the
    /// peer, or the proxy's `X-Forwarded-For` (`ClientAddressMiddleware`).
    var clientAddress: String?

    /// The session of a route behind `SessionMiddleware` (which refuses requests without one).
    var admin: AdminSession {
        get throws {
            guard let session else { throw ConsoleFailure.unauthenticated }
            return session
        }
    }

    /// The request's fields (an empty set for a request without a body).
    var fields: RequestInput { input ?? RequestInput() }
}
