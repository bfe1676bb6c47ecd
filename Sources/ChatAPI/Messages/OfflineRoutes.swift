import ChatGateway
import Hummingbird

/// `POST /api/chat/chatGetmessageOffLine` (docs/api.md, *Messages*): the caller's queued
/// offline messages go to their WebSocket, each exactly once, then `ok('ok')`.
package struct OfflineRoutes: Sendable {
    let delivery: MessageDelivery

    static let unavailable = "获取离线消息失败，请稍后再试"

    /// - Parameter chat: routes behind a `ChatAuthMiddleware` that reads the delivery target.
    func register(chat: some RouterMethods<BridgeRequestContext>) {
        chat.post("chatGetmessageOffLine") { _, context in
            guard let caller = context.chatCaller else { throw APIFailure(ChatAuthMiddleware.noToken) }
            do {
                try await delivery.requestFlush(for: caller.id, target: caller.deliveryTarget)
            } catch {
                throw APIFailure(Self.unavailable)
            }
            return APIResponse.ok("ok")
        }
    }
}
