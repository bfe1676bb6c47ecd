import HTTPTypes
import ChatGateway
import Hummingbird
import Model

/// The `/api/chat` authentication of docs/api.md, in its order: a token; a token that
/// verifies; the account's current token (`chat_user_{id}`: logout and newer logins
/// revoke); an active account (an operator's `HSET … status 0` counts from the next
/// request); a visitor token only on the visitor whitelist.
///
/// The Redis half is one read-only script (`lua/auth_check.lua`), and only as much of it
/// as the routes behind need (`ChatAuthentication.Reads`): the account's row, its
/// delivery target, or nothing for a send, whose script checks token and account itself
/// before anything else.
package struct ChatAuthMiddleware: RouterMiddleware {
    package typealias Context = BridgeRequestContext

    static let noToken = "您没有权限访问即时通讯接口"
    static let invalidToken = AuthRefusal.invalidToken
    static let unavailable = AuthRefusal.unavailable
    static let visitorForbidden = "您没有权限访问，请先注册或登录"

    let authentication: ChatAuthentication
    let reads: ChatAuthentication.Reads

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        var context = context
        let parameters = try await context.parameters(of: &request)
        guard let token = parameters.token else { throw APIFailure(Self.noToken) }
        guard let claims = await authentication.tokens.verify(token) else { throw APIFailure(Self.invalidToken) }
        var caller = ChatCaller(id: claims.id, tokenRole: claims.role, token: token)
        switch reads {
        case .account:
            let user = try await authentication.account(of: caller)
            context.identity = ChatIdentity(user: user, tokenRole: claims.role, token: token)
        case .deliveryTarget:
            caller.deliveryTarget = try await authentication.deliveryTarget(of: caller)
        case .nothing:
            break
        }
        if claims.role == .visitor, !VisitorWhitelist.allows(request.method, request.uri.path) {
            // The token and the account come first, as everywhere.
            if reads == .nothing, let refusal = await authentication.refusal(of: caller) { throw refusal }
            throw APIFailure(Self.visitorForbidden)
        }
        context.chatCaller = caller
        return try await next(request, context)
    }
}

/// docs/api.md's visitor whitelist: method + path prefix.
enum VisitorWhitelist {
    static let entries: [(HTTPRequest.Method, String)] = [
        (.post, "/api/chat/socket/sendmessage"), (.post, "/api/chat/chatGetmessageOffLine"),
        (.get, "/api/chat/grouplist"), (.get, "/api/chat/groupinfo"), (.post, "/api/chat/groupnickname"),
        (.post, "/api/chat/groupDeleteOrQuit"), (.get, "/api/chat/groupQrcode"),
        (.post, "/api/chat/uploadStreamSingleToServerDiy"), (.post, "/api/chat/uploadAliyun"),
        (.post, "/api/chat/getVideoScreenshot"), (.post, "/api/chat/revokeMessage"), (.post, "/api/chat/updateUserinfo"),
        (.post, "/api/chat/groupInviteUser"), (.post, "/api/chat/getUserSetInfo"), (.post, "/api/chat/applyfriend"),
        (.post, "/api/chat/autoAddFriendAndAgree"), (.post, "/api/chat/ismygoodfriend"), (.post, "/api/chat/userset"),
        (.post, "/api/chat/deletegoodfriend"),
    ]

    static func allows(_ method: HTTPRequest.Method, _ path: String) -> Bool {
        entries.contains { $0.0 == method && path.hasPrefix($0.1) }
    }
}
