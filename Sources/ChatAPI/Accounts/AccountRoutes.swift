import ChatGateway
import HTTPTypes
import Hummingbird
import Model

/// docs/api.md *Accounts*: register, login, logout.
package struct AccountRoutes: Sendable {
    /// Where `setPassword` answers the account's new token (docs/api.md).
    static let tokenHeader = HTTPField.Name("token")!

    let accounts: AccountService

    func register(public router: some RouterMethods<BridgeRequestContext>, chat: some RouterMethods<BridgeRequestContext>) {
        router.post("api/regChat") { request, context -> Response in
            var request = request
            var context = context
            let parameters = try await context.parameters(of: &request)
            let username = try parameters.string("username", length: 4...StoredLimits.User.username.maximum)
            let password = try parameters.string("password", length: 6...20)
            let address = accounts.limits.address(of: request, context: context)
            return APIResponse.ok(.object(try await accounts.register(username: username, password: password, from: address)))
        }
        router.post("api/loginChat") { request, context -> Response in
            var request = request
            var context = context
            let parameters = try await context.parameters(of: &request)
            let username = try parameters.string("username", length: 4...StoredLimits.User.username.maximum)
            let password = try parameters.string("password", length: 6...20)
            let address = accounts.limits.address(of: request, context: context)
            return APIResponse.ok(.object(try await accounts.loginResult(username: username, password: password, from: address)))
        }
        chat.post("setPassword") { request, context -> Response in
            var request = request
            var context = context
            guard let identity = context.identity else { throw APIFailure(ChatAuthMiddleware.noToken) }
            let parameters = try await context.parameters(of: &request)
            let old = try parameters.string("oldpassword")
            let new = try parameters.string("newpassword", length: 6...20)
            let confirmation = try parameters.string("checknewpassword")
            let (text, token) = try await accounts.setPassword(userID: identity.user.id, old: old, new: new, confirmation: confirmation)
            var response = APIResponse.ok(.string(text))
            // The body stays the deployed client's; a client that reads the header keeps going.
            response.headers[Self.tokenHeader] = token
            return response
        }
        chat.post("logout") { _, context -> Response in
            guard let identity = context.identity else { throw APIFailure(ChatAuthMiddleware.noToken) }
            try await accounts.logOut(userID: identity.user.id)
            return APIResponse.ok(true)
        }
    }
}
