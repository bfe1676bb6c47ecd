import ChatScripts
import Model
import RedisClient

/// A single-chat send between users of two partitions, as steps: one script run in the
/// sender's partition (`BeginSingleSend`: checks, facts, a `pending` record), one in the
/// recipient's (`ApplySingleSend`: their checks decide; stored, streamed, routed;
/// idempotent by message id), one in the sender's again (`FinishSingleSend`: my history,
/// or the quota given back; the record dropped). The answer is the one the one-run
/// script gives (`SendSingleMessage.Reply`), so the client cannot tell them apart. A
/// crash between steps leaves the `pending` record, which `SingleSendRepair` finishes
/// after its deadline by running the last two steps again.
///
/// With `--redis-wait-replicas` the first two steps are each followed by `WAIT` on their
/// connection, as the one-run script is: a primary that dies after answering a step then
/// loses nothing a replica acknowledged. Both are needed for the promise: the first
/// step's `pending` record is what finishes the send should anything after it be lost
/// (without it a message the recipient holds would never reach the sender's history),
/// and the second step is the message the recipient holds. The last step goes without:
/// if a failover loses it, the `pending` record it dropped is back on the promoted
/// replica and the repairer runs the last two steps again (the recipient's answers
/// `applied`), so the sender's history gets the message late but once.
struct SingleSendSteps: Sendable {
    let scripts: RedisScripts
    /// Carries out the route the recipient's step chose (a push here), right after it.
    let delivery: MessageDelivery
    let settings: SendSettings
    /// `WAIT` after the first two steps; nil: none.
    let replicaAcknowledgement: ReplicaAcknowledgement?

    var keys: RedisKeys { delivery.keys }

    /// How the steps ended.
    enum Outcome: Sendable, Equatable {
        /// Accepted: the message as stored; `route`: where the recipient's step sent it,
        /// carried out already (nil when that step had run before and routed it then);
        /// `historyTrimmed`: entries the caps dropped from both histories.
        case accepted(message: [UInt8], route: DeliveryRoute?, historyTrimmed: Int)
        /// A retried client id: the message the first send was accepted as.
        case duplicate(message: [UInt8])
        case refused(SendSingleMessage.Refusal)
    }

    /// Runs the three steps of `send` (its users in two partitions).
    func send(_ send: SendSingleMessage) async throws -> Outcome {
        let begin = BeginSingleSend(keys: keys, send: send)
        switch try await runAcknowledged(begin) {
        case .refused(let refusal):
            return .refused(refusal)
        case .duplicate(let message):
            return .duplicate(message: message)
        case .pending(let decoded):
            return try await finish(send.messageID, facts: begin.facts(of: decoded), clientID: send.clientID)
        }
    }

    /// The recipient's step, then the last one: for a send under way and for the repairer.
    func finish(_ messageID: String, facts: SingleSendFacts, clientID: String?) async throws -> Outcome {
        let applied = try await runAcknowledged(ApplySingleSend(keys: keys, messageID: messageID, facts: facts, settings: settings))
        let finishing: FinishSingleSend.Outcome
        switch applied {
        case .accepted(let message, let route, _, let quotaUsed):
            // Before the last step: should that one fail, the message visible to the
            // recipient is not left unpushed (the repairer's rerun routes nothing again).
            if let route { delivery.complete(route, sent: message, to: facts.recipient) }
            finishing = .accepted(message: message, quotaUsed: quotaUsed)
        case .refused:
            finishing = .refused
        }
        let finished = try await scripts.run(FinishSingleSend(
            keys: keys, messageID: messageID, sender: facts.sender, recipient: facts.recipient, clientID: clientID,
            outcome: finishing, settings: settings
        ))
        switch applied {
        case .accepted(let message, let route, let trimmed, _):
            return .accepted(message: message, route: route, historyTrimmed: trimmed + (finished ?? 0))
        case .refused(let refusal):
            return .refused(refusal)
        }
    }

    /// A step whose loss in a failover would break the promise, with `WAIT` after it when
    /// the deployment asks.
    private func runAcknowledged<Call: RedisScriptCall>(_ call: Call) async throws(RedisError) -> Call.Reply {
        try await scripts.runAcknowledged(call, replicaAcknowledgement)
    }
}
