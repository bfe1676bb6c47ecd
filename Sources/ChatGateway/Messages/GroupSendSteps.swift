import ChatScripts
import Model
import RedisClient

/// A group send on a partitioned layout, as steps: one script run in the sender's
/// partition (`BeginGroupSend`: client id, token, account, send rate, my facts, a
/// `pending` record), one in the group's (`ApplyGroupSend`: the group, my membership and
/// the members version decide; the message stored and streamed once, fanned out to the
/// members of that partition; idempotent by message id), one in each other partition of
/// members (`DeliverGroupSend`, idempotent by message id), and the last in the sender's
/// (`FinishGroupSend`: the client id record; the `pending` record dropped). The answers
/// are the one-run script's, so the client cannot tell them apart. A crash between steps
/// leaves the `pending` record, which `GroupSendRepair` finishes after its deadline by
/// running the later steps again.
///
/// With `--redis-wait-replicas` every step but the last is followed by `WAIT` on its
/// connection, as the one-run script is (and as `SingleSendSteps`' first two): the sender's
/// step's `pending` record is what finishes the send should a later step be lost, the
/// group's step is the stored message, and each member partition's step what its members
/// hold (a lost one after the last step would never be run again). The last step goes
/// without: lost in a failover, its record is back and the repairer runs the later steps
/// again, each answering `applied`.
struct GroupSendSteps: Sendable {
    let scripts: RedisScripts
    /// Carries out the fan-outs the steps chose (pushes here), right after each.
    let delivery: MessageDelivery
    let settings: SendSettings
    /// Each group's active members (shared with the one-run send).
    let recipients: GroupRecipients
    /// `WAIT` after every step but the last; nil: none.
    let replicaAcknowledgement: ReplicaAcknowledgement?

    var keys: RedisKeys { delivery.keys }

    enum Outcome: Sendable, Equatable {
        /// Accepted (now or by the send a retried client id resumed): the message as stored,
        /// delivered to every member; `historyTrimmed`: entries the cap dropped.
        case accepted(message: [UInt8], historyTrimmed: Int)
        /// A retried client id: the message the first send was accepted as.
        case duplicate(message: [UInt8])
        case refused(SendGroupMessage.Refusal)
    }

    /// The steps did not get through (Redis did not answer, or the members kept changing):
    /// the `pending` record stays for the repairer; a retry with the client id learns the outcome.
    struct Unfinished: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs the steps of `send` (`send.recipients` is not used: the cache's are).
    func send(_ send: SendGroupMessage) async throws -> Outcome {
        let begin = BeginGroupSend(keys: keys, send: send)
        // A resumed send found finished meanwhile asks once more.
        for _ in 0..<2 {
            switch try await runAcknowledged(begin) {
            case .refused(let refusal):
                return .refused(refusal)
            case .pending(let decoded):
                return try await finish(send.messageID, facts: begin.facts(of: decoded))
            case .duplicate(let id):
                let find = ApplyGroupSend.find(keys: keys, messageID: id, sender: send.sender, group: send.group, settings: settings)
                guard case .found(let message) = try await scripts.run(find) else { throw Unfinished(description: "find: unexpected") }
                return .duplicate(message: message)
            case .resume(let id):
                guard let facts = try await pendingFacts(id, sender: send.sender) else { continue }
                switch try await finish(id, facts: facts) {
                case .accepted(let message, _): return .duplicate(message: message)
                case let other: return other
                }
            }
        }
        throw Unfinished(description: "group send under way")
    }

    /// The facts of a `pending` record, or nil when there is none (finished).
    func pendingFacts(_ id: String, sender: Int) async throws -> GroupSendFacts? {
        let partition = keys.layout.partition(ofUser: sender)
        return try await pendingFacts(id, partition: partition)
    }

    func pendingFacts(_ id: String, partition: Int) async throws -> GroupSendFacts? {
        let record = try await scripts.client.send("HGETALL", keys.pendingGroupSend(id, partition: partition)).throwingOnError()
        var fields: [String: [UInt8]] = [:]
        var elements = (record.array ?? []).makeIterator()
        while let name = elements.next()?.string, let value = elements.next()?.bytes { fields[name] = value }
        return GroupSendFacts(record: fields)
    }

    /// The group's step, each other member partition's, then the last one: for a send
    /// under way, a resumed one and the repairer.
    func finish(_ id: String, facts: GroupSendFacts) async throws -> Outcome {
        var members = recipients.members(of: facts.group)
        var message: [UInt8]?
        var trimmed = 0
        var refusal: SendGroupMessage.Refusal?
        attempts: for _ in 0..<MessageSender.groupAttempts {
            let apply = ApplyGroupSend(keys: keys, messageID: id, facts: facts, recipients: members, settings: settings)
            switch try await runAcknowledged(apply) {
            case .stale(let version, let ids):
                // Nothing decided: the step again with the current members (the send rate,
                // taken by the sender's step, is not counted twice).
                members = SendGroupMessage.Recipients(version: version, ids: ids, keys: keys)
                recipients.store(members, for: facts.group)
            case .refused(let refused):
                refusal = refused
                break attempts
            case .sent(let stored, let fanOut, let dropped):
                // Before the other steps: should one fail, the members reached are not left unpushed.
                delivery.complete(fanOut, message: stored)
                (message, trimmed) = (stored, dropped)
                break attempts
            case .applied(let stored):
                message = stored
                break attempts
            case .found:
                throw Unfinished(description: "apply: unexpected reply")
            }
        }
        if let refusal {
            try await last(id, facts: facts, accepted: false)
            return .refused(refusal)
        }
        guard let message else { throw Unfinished(description: "group members kept changing") }
        try await deliverToOtherPartitions(id, message: message, facts: facts, members: members)
        try await last(id, facts: facts, accepted: true)
        return .accepted(message: message, historyTrimmed: trimmed)
    }

    /// Each partition of members but the group's, side by side (the steps are independent).
    private func deliverToOtherPartitions(
        _ id: String, message: [UInt8], facts: GroupSendFacts, members: SendGroupMessage.Recipients
    ) async throws {
        let groupPartition = keys.layout.partition(ofGroup: facts.group)
        let me = String(facts.sender)
        let parts = members.parts.filter { $0.partition != groupPartition && $0.ids.contains { $0 != me } }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for part in parts {
                tasks.addTask {
                    let step = DeliverGroupSend(
                        keys: keys, messageID: id, message: message, sender: facts.sender, members: part, settings: settings
                    )
                    if let fanOut = try await runAcknowledged(step) { delivery.complete(fanOut, message: message) }
                }
            }
            try await tasks.waitForAll()
        }
    }

    private func last(_ id: String, facts: GroupSendFacts, accepted: Bool) async throws {
        _ = try await scripts.run(FinishGroupSend(
            keys: keys, messageID: id, sender: facts.sender, clientID: facts.clientID, accepted: accepted, settings: settings
        ))
    }

    /// A step whose loss in a failover would break the promise, with `WAIT` after it when
    /// the deployment asks.
    private func runAcknowledged<Call: RedisScriptCall>(_ call: Call) async throws(RedisError) -> Call.Reply {
        try await scripts.runAcknowledged(call, replicaAcknowledgement)
    }
}
