import HTTPTypes
import ChatGateway
import Hummingbird
import Model

/// The `/api/chat` authentication of docs/api.md, in its order: a token; a token that
/// verifies; the account's current token (`chat_user_{id}`: logout and newer logins
/// revoke); an active account (an operator's `HSET … status 0` counts from the next
/// request); a visitor token only on the visitor whitelist.
package struct ChatAuthMiddleware: RouterMiddleware {
    package typealias Context = BridgeRequestContext

    static let noToken = "您没有权限访问即时通讯接口"
    static let invalidToken = AuthRefusal.invalidToken
    static let unavailable = AuthRefusal.unavailable
    static let visitorForbidden = "您没有权限访问，请先注册或登录"

    let tokens: TokenService
    let store: AccountStore

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        var context = context
        let parameters = try await context.parameters(of: &request)
        guard let token = parameters.token else { throw APIFailure(Self.noToken) }
        guard let claims = await tokens.verify(token) else { throw APIFailure(Self.invalidToken) }
        let current: String?
        let user: UserRow?
        do {
            async let storedToken = store.currentToken(of: claims.id)
            async let storedUser = store.user(id: claims.id)
            (current, user) = try await (storedToken, storedUser)
        } catch {
            throw APIFailure(Self.invalidToken)
        }
        guard let current, constantTimeEquals(current, token) else { throw APIFailure(Self.invalidToken) }
        guard let user, user.status == 1 else { throw APIFailure(Self.unavailable) }
        if claims.role == .visitor, !VisitorWhitelist.allows(request.method, request.uri.path) {
            throw APIFailure(Self.visitorForbidden)
        }
        context.identity = ChatIdentity(user: user, tokenRole: claims.role, token: token)
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
