import ChatScripts
import Metrics
import Model

/// Ends an account's sessions on every process within a second (docs/api.md,
/// *Revocation*): its token fails from now on, and each of its live sockets, wherever it
/// is, gets `force_logout` and a close frame — the deployed client logs out. One script
/// (`lua/online_revoke.lua`) deletes the token and hands the kicks to the processes'
/// streams, which their listeners read at once (`NodeStreamListener`). A process that
/// misses it (Redis failing here) is caught up by its heartbeat, which kicks every
/// connection whose token is no longer current or whose account is disabled.
package struct SessionRevoker: Sendable {
    /// Why sessions end: the `reason` of `chat_sessions_revoked_total`.
    package enum Reason: String, Sendable, CaseIterable {
        case logout, password, ban, kick
        /// Found by a heartbeat (`lua/online_refresh.lua`): a connection's token is no
        /// longer current, or its account is disabled.
        case heartbeat
    }

    let delivery: MessageDelivery
    let keys: RedisKeys

    package init(delivery: MessageDelivery, keys: RedisKeys) {
        self.delivery = delivery
        self.keys = keys
    }

    /// `chat_sessions_revoked_total{reason}`: live sockets kicked by a revocation.
    static let counters: [Reason: Counter] = Dictionary(uniqueKeysWithValues: Reason.allCases.map {
        ($0, Counter(label: "chat_sessions_revoked_total", dimensions: [("reason", $0.rawValue)]))
    })

    static func count(_ reason: Reason, _ sockets: Int) {
        guard sockets > 0 else { return }
        counters[reason]?.increment(by: sockets)
    }

    /// Revokes the account's tokens — all of them, or all but `keep` (a password change's
    /// new token, stored with the password) — and kicks every live socket it has.
    /// Returns the number of sockets kicked.
    @discardableResult
    package func revoke(user: Int, keeping keep: String? = nil, reason: Reason) async throws -> Int {
        let kicked = try await delivery.scripts.run(RevokeSessions(
            keys: keys, user: user, keep: keep, deadAfterMilliseconds: delivery.policy.deadAfter.milliseconds
        ))
        Self.count(reason, kicked)
        return kicked
    }
}
