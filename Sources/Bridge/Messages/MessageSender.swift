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
/// client id for idempotence).
struct MessageSender: Sendable {
    /// Who sends: the account, and its token when the caller has not checked it already
    /// (a WebSocket may outlive its token: a logout, a newer login).
    struct Sender: Sendable {
        let user: Int
        let uncheckedToken: String?
        /// The recipient's automatic Q&A answer to a question they were asked: the
        /// asker's chatset and the pre-friendship quota do not apply (README, *Q&A*).
        var isAutoReply = false
    }

    let delivery: MessageDelivery
    let policy: MessagePolicy
    let logger: Logger
    /// Each group's active members, as the group send script wants them.
    let groupRecipients = GroupRecipients()
    /// Where accepted questions (`options.askanswer`) wait for their automatic answer.
    let autoReplies: AutoReplyQueue?
    /// The script arguments that come from configuration, as text once rather than per send.
    private let configured: (clientIDWindow: String, historyCap: String, streamCap: String, deadAfter: String, queueCap: String)

    init(delivery: MessageDelivery, policy: MessagePolicy, logger: Logger, autoReplies: AutoReplyQueue? = nil) {
        self.delivery = delivery
        self.policy = policy
        self.logger = logger
        self.autoReplies = autoReplies
        configured = (
            String(policy.clientIDWindow.components.seconds), String(policy.historyCap), String(policy.streamCap),
            String(delivery.policy.deadAfter.milliseconds), String(delivery.policy.offlineQueueCap)
        )
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
    func send(_ request: SendRequest, from sender: Sender, clientID: String? = nil) async throws(APIFailure) -> [UInt8] {
        if request.chatType == .group {
            let id = MessageID.random()
            for _ in 1..<Self.groupAttempts {
                let (keys, arguments) = groupInvocation(request, from: sender, clientID: clientID, id: id)
                let reply: RedisReply
                do {
                    reply = try await delivery.scripts.run("message_send_group", keys: keys, arguments: arguments)
                } catch {
                    throw notSent(error, sender: sender)
                }
                if let message = try acceptGroup(reply, group: request.recipient) { return message }
            }
            throw notSent(RedisError.server("group members kept changing"), sender: sender)
        }
        let (keys, arguments) = try invocation(request, from: sender, clientID: clientID)
        let reply: RedisReply
        do {
            reply = try await delivery.scripts.run("message_send_single", keys: keys, arguments: arguments)
        } catch {
            throw notSent(error, sender: sender)
        }
        return try accept(reply, request: request, sender: sender)
    }

    /// The same for a channel handler: no task; the future completes on `eventLoop` and
    /// fails with an `APIFailure` only.
    func send(
        _ request: SendRequest, from sender: Sender, clientID: String?, on eventLoop: any EventLoop
    ) -> EventLoopFuture<[UInt8]> {
        if request.chatType == .group {
            return sendToGroup(request, from: sender, clientID: clientID, id: MessageID.random(), attempt: 1, on: eventLoop)
        }
        let keys: [any RedisArgument]
        let arguments: [any RedisArgument]
        do {
            (keys, arguments) = try invocation(request, from: sender, clientID: clientID)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        return delivery.scripts.run("message_send_single", keys: keys, arguments: arguments, on: eventLoop)
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
        let (keys, arguments) = groupInvocation(request, from: sender, clientID: clientID, id: id)
        return delivery.scripts.run("message_send_group", keys: keys, arguments: arguments, on: eventLoop)
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

    private func invocation(
        _ request: SendRequest, from sender: Sender, clientID: String?
    ) throws(APIFailure) -> (keys: [any RedisArgument], arguments: [any RedisArgument]) {
        let me = sender.user
        let to = request.recipient
        guard to != me else { throw APIFailure(SendRefusal.toMyself) }
        let keys: [any RedisArgument] = [
            RedisKeys.userToken(me), RedisKeys.user(me), RedisKeys.user(to), RedisKeys.friends(to), RedisKeys.friends(me),
            RedisKeys.quota(me), RedisKeys.singleHistory(owner: me, peer: to), RedisKeys.singleHistory(owner: to, peer: me),
            StreamName.messages, RedisKeys.online(to), RedisKeys.offlineQueue(to), RedisKeys.nodes,
            RedisKeys.sentByClientID(me, clientID ?? ""), RedisKeys.nodeDeliveries,
        ]
        let arguments: [any RedisArgument] = [
            MessageID.random(), String(me), String(to), request.type, request.data, request.options,
            sender.uncheckedToken ?? "", clientID ?? "", configured.clientIDWindow, configured.historyCap,
            configured.streamCap, delivery.node, configured.deadAfter, configured.queueCap, RedisKeys.nodeChannelPrefix,
            sender.isAutoReply ? "autoreply" : "",
        ]
        return (keys, arguments)
    }

    /// `message_send_group.lua`'s keys and arguments, with the group's cached members.
    private func groupInvocation(
        _ request: SendRequest, from sender: Sender, clientID: String?, id: String
    ) -> (keys: [any RedisArgument], arguments: [any RedisArgument]) {
        let me = sender.user
        let group = request.recipient
        let members = groupRecipients.members(of: group)
        var keys: [any RedisArgument] = [
            RedisKeys.userToken(me), RedisKeys.user(me), RedisKeys.group(group), RedisKeys.groupMembers(group),
            RedisKeys.groupMembersVersion(group), RedisKeys.groupHistory(group), StreamName.messages, RedisKeys.nodes,
            RedisKeys.sentByClientID(me, clientID ?? ""), RedisKeys.nodeDeliveries,
        ]
        keys.reserveCapacity(keys.count + members.keys.count)
        for key in members.keys { keys.append(key) }
        var arguments: [any RedisArgument] = [
            id, String(me), String(group), request.type, request.data, request.options,
            sender.uncheckedToken ?? "", clientID ?? "", configured.clientIDWindow, configured.historyCap,
            configured.streamCap, delivery.node, configured.deadAfter, configured.queueCap, RedisKeys.nodeChannelPrefix,
            members.version,
        ]
        arguments.reserveCapacity(arguments.count + members.ids.count)
        for member in members.ids { arguments.append(member) }
        return (keys, arguments)
    }

    /// The group script's answer: a refusal's text, the accepted message (fanned out), or
    /// nil after `stale` (the members are refreshed; send again).
    private func acceptGroup(_ reply: RedisReply, group: Int) throws(APIFailure) -> [UInt8]? {
        if let error = reply.scriptError {
            guard let text = SendRefusal.text(forScriptError: error) else {
                logger.error("group send script failed", metadata: ["error": "\(error)"])
                throw APIFailure(SendRefusal.notSent)
            }
            Self.outcomes.refused.increment()
            throw APIFailure(text)
        }
        guard let parts = reply.array, let kind = parts.first?.string, parts.count >= 2 else {
            logger.error("group send script answered an unexpected reply", metadata: ["reply": "\(reply)"])
            throw APIFailure(SendRefusal.notSent)
        }
        switch kind {
        case "stale":
            let members = parts.dropFirst(2).compactMap { $0.string.flatMap { Int($0) } }
            groupRecipients.store(.init(version: parts[1].string ?? "", ids: members), for: group)
            return nil
        case "duplicate":
            guard let message = parts[1].bytes else { throw APIFailure(SendRefusal.notSent) }
            Self.outcomes.repeated.increment()
            return message
        default:
            guard parts.count == 8, let message = parts[1].bytes, let fanOut = FanOut(parts[2..<6], sequence: parts[7]) else {
                logger.error("group send script answered an unexpected reply", metadata: ["reply": "\(reply)"])
                throw APIFailure(SendRefusal.notSent)
            }
            Self.outcomes.accepted.increment()
            if let trimmed = parts[6].integer, trimmed > 0 { Self.historyTrimmed.increment(by: Int(trimmed)) }
            delivery.complete(fanOut, message: message)
            return message
        }
    }

    /// The script's answer: a refusal's text, or the accepted message, routed.
    private func accept(_ reply: RedisReply, request: SendRequest, sender: Sender) throws(APIFailure) -> [UInt8] {
        if let error = reply.scriptError {
            guard let text = SendRefusal.text(forScriptError: error) else {
                logger.error("send script failed", metadata: ["error": "\(error)"])
                throw APIFailure(SendRefusal.notSent)
            }
            Self.outcomes.refused.increment()
            throw APIFailure(text)
        }
        guard let parts = reply.array, parts.count == 4 || parts.count == 5, let message = parts[2].bytes else {
            logger.error("send script answered an unexpected reply", metadata: ["reply": "\(reply)"])
            throw APIFailure(SendRefusal.notSent)
        }
        if parts[0].string == "duplicate" {
            Self.outcomes.repeated.increment()
            return message
        }
        Self.outcomes.accepted.increment()
        if let trimmed = parts[3].integer, trimmed > 0 { Self.historyTrimmed.increment(by: Int(trimmed)) }
        if let route = DeliveryRoute(kind: parts[0], argument: parts[1], sequence: parts.count == 5 ? parts[4] : nil) {
            delivery.complete(route, sent: message, to: request.recipient)
        }
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
