import ChatGateway
import Hummingbird
import Model

/// docs/api.md *Messages*: `socket/sendmessage` and `revokeMessage` (`chatGetmessageOffLine`
/// is `OfflineRoutes`).
package struct MessageRoutes: Sendable {
    let sender: MessageSender
    let revoker: MessageRevoker
    let authentication: ChatAuthentication

    /// - Parameters:
    ///   - chat: routes behind `ChatAuthMiddleware` that read the account.
    ///   - sends: routes behind one that reads nothing (`ChatAuthentication.Reads.nothing`):
    ///     the send script checks the token and the account first.
    func register(chat: some RouterMethods<BridgeRequestContext>, sends: some RouterMethods<BridgeRequestContext>) {
        sends.post("socket/sendmessage") { request, context -> Response in
            let (parameters, me) = try await context.signedCaller(of: request)
            do {
                let message = try await sender.send(SendRequest(parameters), from: .init(user: me.id, uncheckedToken: me.token))
                return APIResponse.ok(json: message)
            } catch {
                // Refused before the script checked the token and the account (the
                // parameters, a send to oneself, Redis unreachable): they come first.
                if let refusal = await authentication.refusal(of: me) { throw refusal }
                throw error
            }
        }

        chat.post("revokeMessage") { request, context -> Response in
            let (parameters, me) = try await context.caller(of: request)
            let now = WallClock.milliseconds()
            let notice = try await revoker.revoke(RevokeRequest(parameters, now: now), by: me.user, now: now)
            return APIResponse.ok(json: notice)
        }
    }
}
