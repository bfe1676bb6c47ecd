import ChatScripts
import Logging
import Metrics
import Model
import NIOCore
import RedisClient

/// Sends chat messages: one `EVALSHA` per accepted message checks, builds, stores,
/// streams and routes it atomically — `lua/message_send_single.lua` for single chat,
/// `lua/message_send_group.lua` for a group (fanned out to every active member but me,
/// one publish per process); recipients on this process are then pushed to here. The
/// same path serves `sendmessage` over HTTP and the WebSocket send frame (which adds a
/// client id for idempotence). On a partitioned layout a single send between users of two
/// partitions runs as steps instead (`SingleSendSteps`), and a group send always does
/// (`GroupSendSteps`: its members are in many partitions), with the same answers.
package struct MessageSender: Sendable {
    /// Who sends: the account, and its token when the caller has not checked it already
    /// (a WebSocket may outlive its token: a logout, a newer login).
    package struct Sender: Sendable {
        let user: Int
        let uncheckedToken: String?
        /// The recipient's automatic Q&A answer to a question they were asked: the
        /// asker's chatset and the pre-friendship quota do not apply (docs/api.md, *Complaints and Q&A*).
        var isAutoReply = false

        package init(user: Int, uncheckedToken: String?, isAutoReply: Bool = false) {
            self.user = user
            self.uncheckedToken = uncheckedToken
            self.isAutoReply = isAutoReply
        }
    }

    /// Runs the send scripts.
    let scripts: RedisScripts
    /// Pushes what the scripts route to this process's connections.
    let delivery: MessageDelivery
    let policy: MessagePolicy
    let logger: Logger
    /// Each group's active members, as the group send script wants them.
    let groupRecipients = GroupRecipients()
    /// Where accepted questions (`options.askanswer`) wait for their automatic answer.
    let autoReplies: AutoReplyQueue?
    /// The script arguments that come from configuration, as text once rather than per send.
    private let settings: SendSettings
    /// Single sends between two partitions (never on one Redis).
    let steps: SingleSendSteps
    /// Group sends on a partitioned layout (never on one Redis).
    let groupSteps: GroupSendSteps

    package init(
        scripts: RedisScripts, delivery: MessageDelivery, policy: MessagePolicy, logger: Logger,
        autoReplies: AutoReplyQueue? = nil
    ) {
        self.scripts = scripts
        self.delivery = delivery
        self.policy = policy
        self.logger = logger
        self.autoReplies = autoReplies
        settings = SendSettings(
            clientIDWindow: policy.clientIDWindow.components.seconds, historyCap: policy.historyCap,
            streamCap: policy.streamCap, node: delivery.node, deadAfter: delivery.policy.deadAfter.milliseconds,
            queueCap: delivery.policy.offlineQueueCap, queueByteCap: delivery.policy.offlineQueueByteCap,
            sendRate: policy.sendRate, sendBurst: policy.sendBurst
        )
        steps = SingleSendSteps(
            scripts: scripts, delivery: delivery, settings: settings, replicaAcknowledgement: policy.replicaAcknowledgement
        )
        groupSteps = GroupSendSteps(
            scripts: scripts, delivery: delivery, settings: settings, recipients: groupRecipients,
            replicaAcknowledgement: policy.replicaAcknowledgement
        )
    }

    /// Whether a group send runs as steps: the layout has partitions.
    private var sendsGroupsInSteps: Bool { delivery.keys.layout.partitions > 1 }

    /// Whether a single send runs as steps: its users are in two partitions.
    private func isAcrossPartitions(_ send: SendSingleMessage) -> Bool {
        let layout = delivery.keys.layout
        return layout.partition(ofUser: send.sender) != layout.partition(ofUser: send.recipient)
    }

    private static let outcomes = (
        accepted: Counter(label: "chat_messages_total", dimensions: [("outcome", "accepted")]),
        repeated: Counter(label: "chat_messages_total", dimensions: [("outcome", "duplicate")]),
        refused: Counter(label: "chat_messages_total", dimensions: [("outcome", "refused")])
    )
    private static let historyTrimmed = Counter(label: "chat_history_trimmed_total")

    /// A group send answered `stale` this many times in a row (members changing under
    /// it all the time) gives up.
    static let groupAttempts = 4

    /// Sends a message; returns the message object (JSON bytes) the sender gets back.
    package func send(_ request: SendRequest, from sender: Sender, clientID: String? = nil) async throws(APIFailure) -> [UInt8] {
        if request.chatType == .group {
            let id = MessageID.random()
            if sendsGroupsInSteps {
                return try await sendToGroupInSteps(groupSend(request, from: sender, clientID: clientID, id: id), sender: sender)
            }
            for _ in 1..<Self.groupAttempts {
                let reply: SendGroupMessage.Reply
                do {
                    reply = try await runSend(groupSend(request, from: sender, clientID: clientID, id: id))
                } catch {
                    throw notSent(error, sender: sender)
                }
                if let message = try acceptGroup(reply, group: request.recipient) { return message }
            }
            throw notSent(RedisError.server("group members kept changing"), sender: sender)
        }
        let send = try singleSend(request, from: sender, clientID: clientID)
        if isAcrossPartitions(send) { return try await sendInSteps(send, request: request, sender: sender) }
        let reply: SendSingleMessage.Reply
        do {
            reply = try await runSend(send)
        } catch {
            throw notSent(error, sender: sender)
        }
        return try accept(reply, request: request, sender: sender)
    }

    /// A single send between two partitions: its steps, then the same answer.
    private func sendInSteps(_ send: SendSingleMessage, request: SendRequest, sender: Sender) async throws(APIFailure) -> [UInt8] {
        let outcome: SingleSendSteps.Outcome
        do {
            outcome = try await steps.send(send)
        } catch {
            // A step that did not answer leaves the `pending` record: the repairer finishes
            // the send, and a client retrying with its client id learns the outcome.
            throw notSent(error, sender: sender)
        }
        switch outcome {
        case .refused(let refusal):
            return try accept(.refused(refusal), request: request, sender: sender)
        case .duplicate(let message):
            return try accept(.duplicate(message: message), request: request, sender: sender)
        case .accepted(let message, _, let trimmed):
            // Its route was carried out between the steps.
            return acceptedSend(message, route: nil, historyTrimmed: trimmed, request: request, sender: sender)
        }
    }

    /// A group send on a partitioned layout: its steps, then the same answer.
    private func sendToGroupInSteps(_ send: SendGroupMessage, sender: Sender) async throws(APIFailure) -> [UInt8] {
        let outcome: GroupSendSteps.Outcome
        do {
            outcome = try await groupSteps.send(send)
        } catch {
            // A step that did not answer leaves the `pending` record: the repairer finishes
            // the send, and a client retrying with its client id learns the outcome.
            throw notSent(error, sender: sender)
        }
        switch outcome {
        case .refused(let refusal):
            throw refused(refusal)
        case .duplicate(let message):
            Self.outcomes.repeated.increment()
            return message
        case .accepted(let message, let trimmed):
            // Its fan-outs were carried out between the steps.
            Self.outcomes.accepted.increment()
            delivery.acceptedSends.record()
            if trimmed > 0 { Self.historyTrimmed.increment(by: trimmed) }
            return message
        }
    }

    /// The same for a channel handler: no task; the future completes on `eventLoop` and
    /// fails with an `APIFailure` only.
    func send(
        _ request: SendRequest, from sender: Sender, clientID: String?, on eventLoop: any EventLoop
    ) -> EventLoopFuture<[UInt8]> {
        if request.chatType == .group {
            if sendsGroupsInSteps {
                let send = groupSend(request, from: sender, clientID: clientID, id: MessageID.random())
                return eventLoop.makeFutureWithTask { try await sendToGroupInSteps(send, sender: sender) }
            }
            return sendToGroup(request, from: sender, clientID: clientID, id: MessageID.random(), attempt: 1, on: eventLoop)
        }
        let send: SendSingleMessage
        do {
            send = try singleSend(request, from: sender, clientID: clientID)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        if isAcrossPartitions(send) {
            return eventLoop.makeFutureWithTask { try await sendInSteps(send, request: request, sender: sender) }
        }
        return runSend(send, on: eventLoop)
            .flatMapErrorThrowing { throw notSent($0, sender: sender) }
            .flatMapThrowing { try accept($0, request: request, sender: sender) }
    }

    /// The group send over futures: `stale` refreshes the members and sends again.
    private func sendToGroup(
        _ request: SendRequest, from sender: Sender, clientID: String?, id: String, attempt: Int, on eventLoop: any EventLoop
    ) -> EventLoopFuture<[UInt8]> {
        guard attempt < Self.groupAttempts else {
            return eventLoop.makeFailedFuture(notSent(RedisError.server("group members kept changing"), sender: sender))
        }
        return runSend(groupSend(request, from: sender, clientID: clientID, id: id), on: eventLoop)
            .flatMapErrorThrowing { throw notSent($0, sender: sender) }
            .flatMap { reply in
                do {
                    if let message = try acceptGroup(reply, group: request.recipient) {
                        return eventLoop.makeSucceededFuture(message)
                    }
                } catch {
                    return eventLoop.makeFailedFuture(error)
                }
                return sendToGroup(request, from: sender, clientID: clientID, id: id, attempt: attempt + 1, on: eventLoop)
            }
    }

    // MARK: The scripts

    private func singleSend(_ request: SendRequest, from sender: Sender, clientID: String?) throws(APIFailure) -> SendSingleMessage {
        guard request.recipient != sender.user else { throw APIFailure(SendRefusal.toMyself) }
        return SendSingleMessage(
            keys: delivery.keys, messageID: MessageID.random(), sender: sender.user, recipient: request.recipient, type: request.type,
            data: request.data, options: request.options, uncheckedToken: sender.uncheckedToken, clientID: clientID,
            isAutoReply: sender.isAutoReply, settings: settings
        )
    }

    /// The group send, to the group's cached members.
    private func groupSend(_ request: SendRequest, from sender: Sender, clientID: String?, id: String) -> SendGroupMessage {
        SendGroupMessage(
            keys: delivery.keys, messageID: id, sender: sender.user, group: request.recipient, type: request.type, data: request.data,
            options: request.options, uncheckedToken: sender.uncheckedToken, clientID: clientID,
            recipients: groupRecipients.members(of: request.recipient), settings: settings
        )
    }

    /// The group script's answer: a refusal's text, the accepted message (fanned out), or
    /// nil after `stale` (the members are refreshed; send again).
    private func acceptGroup(_ reply: SendGroupMessage.Reply, group: Int) throws(APIFailure) -> [UInt8]? {
        switch reply {
        case .refused(let refusal):
            throw refused(refusal)
        case .stale(let version, let members):
            groupRecipients.store(SendGroupMessage.Recipients(version: version, ids: members, keys: delivery.keys), for: group)
            return nil
        case .duplicate(let message):
            Self.outcomes.repeated.increment()
            return message
        case .sent(let message, let fanOut, let trimmed):
            Self.outcomes.accepted.increment()
            delivery.acceptedSends.record()
            if trimmed > 0 { Self.historyTrimmed.increment(by: trimmed) }
            delivery.complete(fanOut, message: message)
            return message
        }
    }

    /// A refused group send: counted, and its text.
    private func refused(_ refusal: SendGroupMessage.Refusal) -> APIFailure {
        Self.outcomes.refused.increment()
        if refusal == .rate { QuotaRefusals.sendRate.increment() }
        return APIFailure(SendRefusal.text(for: refusal))
    }

    /// The script's answer: a refusal's text, or the accepted message, routed.
    private func accept(_ reply: SendSingleMessage.Reply, request: SendRequest, sender: Sender) throws(APIFailure) -> [UInt8] {
        switch reply {
        case .refused(let refusal):
            Self.outcomes.refused.increment()
            if refusal == .rate { QuotaRefusals.sendRate.increment() }
            throw APIFailure(SendRefusal.text(for: refusal))
        case .duplicate(let message):
            Self.outcomes.repeated.increment()
            return message
        case .accepted(let message, let route, let trimmed):
            return acceptedSend(message, route: route, historyTrimmed: trimmed, request: request, sender: sender)
        }
    }

    /// An accepted single send: counted, its route carried out (nil: carried out already),
    /// its question queued for the automatic answer.
    private func acceptedSend(
        _ message: [UInt8], route: DeliveryRoute?, historyTrimmed trimmed: Int, request: SendRequest, sender: Sender
    ) -> [UInt8] {
        Self.outcomes.accepted.increment()
        delivery.acceptedSends.record()
        if trimmed > 0 { Self.historyTrimmed.increment(by: trimmed) }
        if let route { delivery.complete(route, sent: message, to: request.recipient) }
        if let question = request.askedQuestion {
            autoReplies?.schedule(AutoReplyJob(question: question, asker: sender.user, owner: request.recipient))
        }
        return message
    }

    /// Redis did not answer: the message may or may not have been accepted (a WebSocket
    /// client retries with the same client id and learns which).
    private func notSent(_ error: any Error, sender: Sender) -> APIFailure {
        if let failure = error as? APIFailure { return failure }
        logger.warning("message not sent", metadata: ["user": "\(sender.user)", "error": "\(error)"])
        return APIFailure(SendRefusal.notSent)
    }
}
