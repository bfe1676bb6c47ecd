import ChatScripts
import Logging
import Model
import RedisClient

/// `revokeMessage` (docs/api.md, with its Fix): `lua/message_revoke_single.lua` /
/// `lua/message_revoke_group.lua` checks that I sent the message and that its stored time
/// is within the window, marks the stored copies `isremove = 1` and appends the `revoke`
/// stream entry; then the peer — for a group, every member including me — gets the
/// revoke notice, which is also the answer. The notice's `to_*` are the stored message's
/// (the script reads them), never the client's `to_name` / `to_avatar`.
package struct MessageRevoker: Sendable {
    static let expired = "消息超过5分钟，不能撤回"
    static let notMine = "消息不存在或无权撤回"
    static let groupMissing = "群不存在"
    static let notInGroup = "你不在该群聊中，操作失败"
    static let failed = "撤回失败，请稍后再试"

    /// Runs the revoke scripts.
    let scripts: RedisScripts
    /// Delivers the revoke notices.
    let delivery: MessageDelivery
    let policy: MessagePolicy
    let logger: Logger

    package init(scripts: RedisScripts, delivery: MessageDelivery, policy: MessagePolicy, logger: Logger) {
        self.scripts = scripts
        self.delivery = delivery
        self.policy = policy
        self.logger = logger
    }

    package func revoke(_ request: RevokeRequest, by me: UserRow, now: Int64) async throws(APIFailure) -> [UInt8] {
        let window = policy.revokeWindow.milliseconds
        if request.chatType == .group { return try await revokeInGroup(request, by: me, now: now, window: window) }
        guard request.hasWellFormedID else { throw APIFailure(refusal(request, now: now, window: window)) }
        let text = "\(me.displayName)撤回了一条消息"
        let revoke = RevokeSingleMessage(
            keys: delivery.keys, messageID: request.messageID, sender: me.id, recipient: request.peer, windowMilliseconds: window,
            streamCap: policy.streamCap, searchLimit: policy.historyCap, fromName: me.displayName, fromAvatar: me.avatar,
            notice: JSONSerializer.string(SystemNotice.data(text))
        )
        let reply: RevokeSingleMessage.Reply
        do {
            reply = try await scripts.run(revoke)
        } catch {
            logger.warning("revoke not done", metadata: ["user": "\(me.id)", "error": "\(error)"])
            throw APIFailure(Self.failed)
        }
        let revocation: RevokeSingleMessage.Revocation
        var revokedNow: Bool
        switch reply {
        case .refused(.missing): throw APIFailure(refusal(request, now: now, window: window))
        case .refused(.expired): throw APIFailure(Self.expired)
        case .revoked(let done):
            (revocation, revokedNow) = (done, true)
        case .alreadyRevoked(let done):
            (revocation, revokedNow) = (done, false)
        }
        let layout = delivery.keys.layout
        if layout.partition(ofUser: me.id) != layout.partition(ofUser: request.peer) {
            // Between partitions: the recipient's copy in their partition, also after an
            // earlier attempt that revoked mine and failed there (it answers 'already' here):
            // the notice goes when either copy is marked now.
            do {
                let markedNow = try await scripts.run(MarkRevokedCopy(
                    keys: delivery.keys, messageID: request.messageID, sender: me.id, recipient: request.peer,
                    searchLimit: policy.historyCap
                ))
                revokedNow = revokedNow || markedNow
            } catch {
                logger.warning("revoke not done", metadata: ["user": "\(me.id)", "error": "\(error)"])
                throw APIFailure(Self.failed)
            }
        }
        var notice = SystemNotice(
            id: request.messageID,
            from: .init(id: .integer(Int64(me.id)), name: me.displayName, avatar: me.avatar),
            to: .init(id: .integer(Int64(request.peer)), name: revocation.toName, avatar: revocation.toAvatar),
            text: text, createTime: revocation.at
        )
        notice.extra = [("actionType", "revoke"), ("group", .null)]
        let bytes = notice.bytes
        if revokedNow {
            do {
                try await delivery.deliver(bytes, to: request.peer)
            } catch {
                logger.warning("revoke notice not delivered", metadata: ["user": "\(request.peer)", "error": "\(error)"])
            }
        }
        return bytes
    }

    /// The group's revoke: named by my group nickname (the script reads it), sent to
    /// every member but applicants, me included, in one fan-out. The group and my
    /// membership are checked before the message (a malformed id names none).
    private func revokeInGroup(_ request: RevokeRequest, by me: UserRow, now: Int64, window: Int64) async throws(APIFailure) -> [UInt8] {
        let group = request.peer
        let revoke = RevokeGroupMessage(
            keys: delivery.keys, messageID: request.messageID, sender: me.id, group: group, windowMilliseconds: window,
            streamCap: policy.streamCap, searchLimit: policy.historyCap, myName: me.displayName, myAvatar: me.avatar
        )
        let reply: RevokeGroupMessage.Reply
        do {
            reply = try await scripts.run(revoke)
        } catch {
            logger.warning("revoke not done", metadata: ["user": "\(me.id)", "error": "\(error)"])
            throw APIFailure(Self.failed)
        }
        let revocation: RevokeGroupMessage.Revocation
        let revokedNow: Bool
        switch reply {
        case .refused(.group): throw APIFailure(Self.groupMissing)
        case .refused(.notMember): throw APIFailure(Self.notInGroup)
        case .refused(.missing): throw APIFailure(refusal(request, now: now, window: window))
        case .refused(.expired): throw APIFailure(Self.expired)
        case .revoked(let done):
            (revocation, revokedNow) = (done, true)
        case .alreadyRevoked(let done):
            (revocation, revokedNow) = (done, false)
        }
        var notice = SystemNotice(
            id: request.messageID,
            from: .init(id: .integer(Int64(me.id)), name: revocation.fromName, avatar: revocation.fromAvatar),
            to: .init(id: .integer(Int64(group)), name: revocation.toName, avatar: revocation.toAvatar),
            text: "\(revocation.fromName) 撤回了一条消息", createTime: revocation.at
        )
        notice.chatType = "group"
        notice.extra = [("actionType", "revoke"), ("group", .null)]
        let bytes = notice.bytes
        if revokedNow {
            do {
                try await delivery.deliver(bytes, toEach: revocation.members)
            } catch {
                logger.warning("group revoke notice not delivered", metadata: ["group": "\(group)", "error": "\(error)"])
            }
        }
        return bytes
    }

    /// No message of mine: when the client's own time for it is past the window, that is
    /// the likelier story (the old server's only check); otherwise it is not mine.
    private func refusal(_ request: RevokeRequest, now: Int64, window: Int64) -> String {
        now - request.claimedCreateTime > window ? Self.expired : Self.notMine
    }
}
