import ChatGateway
import Logging
import Metrics
import Model

/// The automatic answer to a question (docs/api.md, *Complaints and Q&A*): the owner's pair
/// whose `ask` is closest to the question (`QuestionMatcher`) answers it.
///
/// The answer is a message from the owner to the asker, sent through the normal send
/// path (`lua/message_send_single.lua`: both histories, the messages stream, delivery or
/// the offline queue), with no token check (the owner did not send it) and no chatset or
/// quota check (the asker asked for it); the rest still applies: the owner's account must
/// be active, and an asker who blacklisted the owner gets nothing. Its `options` are
/// `{"askanswer_reply":{"id":…,"ask":…}}`. Then the owner gets a `systemNotice` from the
/// asker saying what was answered (pushed or queued, not in history).
///
/// No pair close enough: no answer and no notice.
package struct AutoReplier: Sendable {
    let store: AskAnswerStore
    let sender: MessageSender
    /// Delivers the owner the notice of what was answered for them.
    let delivery: MessageDelivery
    /// The longest question answered automatically, in characters: as long as the longest
    /// `ask` (the `askanswer.ask` column, VARCHAR(1000)); a longer question gets no answer.
    /// Bounds the matching's CPU (docs/architecture.md, *CPU bounds*).
    static let maximumQuestionLength = 1000
    var matcher = QuestionMatcher(maximumLength: maximumQuestionLength)
    var logger = Logger(label: "bridge.askanswer")

    package init(store: AskAnswerStore, sender: MessageSender, delivery: MessageDelivery) {
        self.store = store
        self.sender = sender
        self.delivery = delivery
    }

    private static let outcomes = (
        answered: Counter(label: "chat_askanswer_replies_total", dimensions: [("outcome", "answered")]),
        unmatched: Counter(label: "chat_askanswer_replies_total", dimensions: [("outcome", "unmatched")]),
        failed: Counter(label: "chat_askanswer_replies_total", dimensions: [("outcome", "failed")])
    )

    func reply(to job: AutoReplyJob) async {
        do {
            let rows = try await store.rows(of: job.owner)
            guard let match = matcher.closest(to: job.question.text, among: rows.map { (id: $0.id, ask: $0.ask) }),
                  let pair = rows.first(where: { $0.id == match.id })
            else {
                Self.outcomes.unmatched.increment()
                return
            }
            let message = try await sender.send(
                try request(answering: job, with: pair), from: .init(user: job.owner, uncheckedToken: nil, isAutoReply: true)
            )
            Self.outcomes.answered.increment()
            try await delivery.deliver(notice(after: message, pair: pair, question: job.question), to: job.owner)
        } catch {
            Self.outcomes.failed.increment()
            logger.warning("automatic answer not sent", metadata: [
                "asker": "\(job.asker)", "owner": "\(job.owner)", "error": "\((error as? APIFailure)?.text ?? "\(error)")",
            ])
        }
    }

    /// The answer as a `sendmessage` from the owner: checked like any other.
    private func request(answering job: AutoReplyJob, with pair: AskAnswerRow) throws(APIFailure) -> SendRequest {
        try SendRequest(RequestParameters(body: [
            "sendto_id": .integer(Int64(job.asker)), "chatType": "single", "type": "text",
            "data": job.question.data(answering: pair.answer),
            "options": ["askanswer_reply": ["id": .integer(Int64(pair.id)), "ask": .string(pair.ask)]],
        ]))
    }

    /// The owner's notice: from the asker (as the answer names them), in that conversation.
    private func notice(after answer: [UInt8], pair: AskAnswerRow, question: AskedQuestion) throws -> [UInt8] {
        let message = try JSONParser.parse(answer).objectValue ?? [:]
        let asker = SystemNotice.Party(
            id: message["to_id"] ?? .null, name: message["to_name"]?.stringValue ?? "", avatar: message["to_avatar"]?.stringValue ?? ""
        )
        let owner = SystemNotice.Party(
            id: message["from_id"] ?? .null, name: message["from_name"]?.stringValue ?? "",
            avatar: message["from_avatar"]?.stringValue ?? ""
        )
        var notice = SystemNotice(
            id: MessageID.random(), from: asker, to: owner,
            text: "已自动回复\(asker.name)的问题“\(question.text)”：\(pair.answer)",
            createTime: message["create_time"]?.integerValue ?? WallClock.milliseconds()
        )
        notice.extra = [
            ("askanswer", ["id": .integer(Int64(pair.id)), "ask": .string(pair.ask), "message_id": message["id"] ?? .null]),
        ]
        return notice.bytes
    }
}
