import ChatGateway
import ChatScripts
import Model

/// The Redis half of the `/api/chat` authentication (`lua/auth_check.lua`, one command):
/// the token presented is the account's current one, the account active — with what the
/// routes behind need next. Every failure to read answers `Token 令牌不合法！`, as the
/// check always has.
package struct ChatAuthentication: Sendable {
    /// What the routes behind a `ChatAuthMiddleware` need read before they run.
    package enum Reads: Sendable, Equatable {
        /// Token and account checked, and the account's row (`ChatIdentity`).
        case account
        /// Token and account checked, and the account's delivery target (`ChatCaller`):
        /// `chatGetmessageOffLine`, one command in all.
        case deliveryTarget
        /// Nothing more: the route's script checks token and account before anything else
        /// (the sends); a failure before the script ran is preceded by the check
        /// (`refusal(of:)`), so the answers come in the same order.
        case nothing
    }

    let tokens: TokenService
    let store: AccountStore

    /// The account's row; its refusal otherwise.
    func account(of caller: ChatCaller) async throws(APIFailure) -> UserRow {
        guard case .row(let row) = try await check(caller, read: .row), let user = UserRow(hash: row), user.status == 1 else {
            throw APIFailure(ChatAuthMiddleware.unavailable)
        }
        return user
    }

    /// The account's delivery target's text (nil: none); its refusal otherwise.
    func deliveryTarget(of caller: ChatCaller) async throws(APIFailure) -> String? {
        if case .target(let target) = try await check(caller, read: .target) { return target }
        return nil
    }

    /// The refusal a check would answer now, if any: for a route that skipped the check
    /// (`Reads.nothing`) and failed before its own script could check.
    func refusal(of caller: ChatCaller) async -> APIFailure? {
        do {
            _ = try await check(caller, read: .nothing)
            return nil
        } catch {
            return error
        }
    }

    private func check(_ caller: ChatCaller, read: CheckAuthentication.Read) async throws(APIFailure) -> CheckAuthentication.Reply {
        let reply: CheckAuthentication.Reply
        do {
            reply = try await store.scripts.run(CheckAuthentication(keys: store.keys, userID: caller.id, token: caller.token, read: read))
        } catch {
            throw APIFailure(ChatAuthMiddleware.invalidToken)
        }
        switch reply {
        case .refused(.token): throw APIFailure(ChatAuthMiddleware.invalidToken)
        case .refused(.unavailable): throw APIFailure(ChatAuthMiddleware.unavailable)
        case .active, .row, .target: return reply
        }
    }
}
