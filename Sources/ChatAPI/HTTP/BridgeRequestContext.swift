import ChatGateway
import Hummingbird
import Model
import NIOCore

/// Who is calling, once `ChatAuthMiddleware` has checked the token.
struct ChatIdentity: Sendable {
    /// The stored account (its role decides business rules, e.g. send permission).
    let user: UserRow
    /// The token's role (decides access: a visitor token sees only the whitelist).
    let tokenRole: Role
    let token: String
}

/// Who is calling, from a token whose signature verified: set for every `/api/chat/*`
/// route. Whether Redis confirmed the token and the account depends on the route's
/// `ChatAuthentication.Reads` (a send's script confirms them itself).
struct ChatCaller: Sendable {
    let id: Int
    /// The token's role (decides access: a visitor token sees only the whitelist).
    let tokenRole: Role
    let token: String
    /// The account's delivery target's text, when the route asked for it
    /// (`ChatAuthentication.Reads.deliveryTarget`) and there is one.
    var deliveryTarget: String?
}

/// The request context of the bridge's routes.
package struct BridgeRequestContext: RequestContext, RemoteAddressRequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The connection's peer (nil for the router driven in-process): `ClientAddress`.
    package let remoteAddress: SocketAddress?
    /// Set for `/api/chat/*` routes that read the account (`ChatAuthentication.Reads.account`).
    var identity: ChatIdentity?
    /// Set for every `/api/chat/*` route by `ChatAuthMiddleware`.
    var chatCaller: ChatCaller?
    /// The parsed body and query, when a middleware already read them.
    var parameters: RequestParameters?

    package init(source: Source) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        identity = nil
        chatCaller = nil
        parameters = nil
    }

    /// The body may only be read once: middleware and routes share the parsed form.
    // Not inlined: a Swift 6.3.1 release-build crash (docs/architecture.md, *Modules*).
    @inline(never)
    mutating func parameters(of request: inout Request) async throws(APIFailure) -> RequestParameters {
        if let parameters { return parameters }
        let read = try await RequestParameters.read(from: &request)
        parameters = read
        return read
    }
}

extension BridgeRequestContext {
    /// The caller of an `/api/chat` route (checked by `ChatAuthMiddleware`) and the
    /// request's parameters.
    // Not inlined: a Swift 6.3.1 release-build crash (docs/architecture.md, *Modules*).
    @inline(never)
    func caller(of request: Request) async throws(APIFailure) -> (parameters: RequestParameters, identity: ChatIdentity) {
        guard let identity else { throw APIFailure(ChatAuthMiddleware.noToken) }
        var request = request
        var context = self
        return (try await context.parameters(of: &request), identity)
    }

    /// The caller of an `/api/chat` route that needs only who calls, and the request's
    /// parameters.
    // Not inlined: a Swift 6.3.1 release-build crash (docs/architecture.md, *Modules*).
    @inline(never)
    func signedCaller(of request: Request) async throws(APIFailure) -> (parameters: RequestParameters, caller: ChatCaller) {
        guard let chatCaller else { throw APIFailure(ChatAuthMiddleware.noToken) }
        var request = request
        var context = self
        return (try await context.parameters(of: &request), chatCaller)
    }
}
