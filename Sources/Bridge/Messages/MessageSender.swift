import Logging
import Metrics
import Model
import NIOCore
import RedisClient

/// Sends chat messages: one `EVALSHA` of `lua/message_send_single.lua` per accepted
/// message checks, builds, stores, streams and routes it atomically; a recipient on this
/// process is then pushed to here. The same path serves `sendmessage` over HTTP and the
/// WebSocket send frame (which adds a client id for idempotence).
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

    /// Sends a message; returns the message object (JSON bytes) the sender gets back.
    func send(_ request: SendRequest, from sender: Sender, clientID: String? = nil) async throws(APIFailure) -> [UInt8] {
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

    // MARK: The script

    private func invocation(
        _ request: SendRequest, from sender: Sender, clientID: String?
    ) throws(APIFailure) -> (keys: [any RedisArgument], arguments: [any RedisArgument]) {
        guard request.chatType == .single else { throw APIFailure(SendRefusal.groupUnavailable) }
        let me = sender.user
        let to = request.recipient
        guard to != me else { throw APIFailure(SendRefusal.toMyself) }
        let keys: [any RedisArgument] = [
            RedisKeys.userToken(me), RedisKeys.user(me), RedisKeys.user(to), RedisKeys.friends(to), RedisKeys.friends(me),
            RedisKeys.quota(me), RedisKeys.singleHistory(owner: me, peer: to), RedisKeys.singleHistory(owner: to, peer: me),
            StreamName.messages, RedisKeys.online(to), RedisKeys.offlineQueue(to), RedisKeys.nodes,
            RedisKeys.sentByClientID(me, clientID ?? ""),
        ]
        let arguments: [any RedisArgument] = [
            MessageID.random(), String(me), String(to), request.type, request.data, request.options,
            sender.uncheckedToken ?? "", clientID ?? "", configured.clientIDWindow, configured.historyCap,
            configured.streamCap, delivery.node, configured.deadAfter, configured.queueCap, RedisKeys.nodeChannelPrefix,
            sender.isAutoReply ? "autoreply" : "",
        ]
        return (keys, arguments)
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
        guard let parts = reply.array, parts.count == 4, let message = parts[2].bytes else {
            logger.error("send script answered an unexpected reply", metadata: ["reply": "\(reply)"])
            throw APIFailure(SendRefusal.notSent)
        }
        if parts[0].string == "duplicate" {
            Self.outcomes.repeated.increment()
            return message
        }
        Self.outcomes.accepted.increment()
        if let trimmed = parts[3].integer, trimmed > 0 { Self.historyTrimmed.increment(by: Int(trimmed)) }
        if let route = DeliveryRoute(kind: parts[0], argument: parts[1]) {
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
