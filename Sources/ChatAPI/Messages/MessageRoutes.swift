import ChatGateway
import Hummingbird
import Model

/// docs/api.md *Messages*: `socket/sendmessage` and `revokeMessage` (`chatGetmessageOffLine`
/// is `OfflineRoutes`).
package struct MessageRoutes: Sendable {
    let sender: MessageSender
    let revoker: MessageRevoker

    func register(chat: some RouterMethods<BridgeRequestContext>) {
        chat.post("socket/sendmessage") { request, context -> Response in
            let (parameters, me) = try await context.caller(of: request)
            let message = try await sender.send(SendRequest(parameters), from: .init(user: me.user.id, uncheckedToken: nil))
            return APIResponse.ok(json: message)
        }

        chat.post("revokeMessage") { request, context -> Response in
            let (parameters, me) = try await context.caller(of: request)
            let now = WallClock.milliseconds()
            let notice = try await revoker.revoke(RevokeRequest(parameters, now: now), by: me.user, now: now)
            return APIResponse.ok(json: notice)
        }
    }
}
