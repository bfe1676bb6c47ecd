import Logging
import Model
import RedisClient

/// `revokeMessage` (API.md, with its Fix): `lua/message_revoke_single.lua` /
/// `lua/message_revoke_group.lua` checks that I sent the message and that its stored time
/// is within the window, marks the stored copies `isremove = 1` and appends the `revoke`
/// stream entry; then the peer — for a group, every member including me — gets the
/// revoke notice, which is also the answer.
package struct MessageRevoker: Sendable {
    static let expired = "消息超过5分钟，不能撤回"
    static let notMine = "消息不存在或无权撤回"
    static let groupMissing = "群不存在"
    static let notInGroup = "你不在该群聊中，操作失败"
    static let failed = "撤回失败，请稍后再试"

    let delivery: MessageDelivery
    let policy: MessagePolicy
    let logger: Logger

    package init(delivery: MessageDelivery, policy: MessagePolicy, logger: Logger) {
        self.delivery = delivery
        self.policy = policy
        self.logger = logger
    }

    package func revoke(_ request: RevokeRequest, by me: UserRow, now: Int64) async throws(APIFailure) -> [UInt8] {
        let window = policy.revokeWindow.milliseconds
        if request.chatType == .group { return try await revokeInGroup(request, by: me, now: now, window: window) }
        guard request.hasWellFormedID else { throw APIFailure(refusal(request, now: now, window: window)) }
        var notice = SystemNotice(
            id: request.messageID,
            from: .init(id: .integer(Int64(me.id)), name: me.displayName, avatar: me.avatar),
            to: .init(id: .integer(Int64(request.peer)), name: request.peerName, avatar: request.peerAvatar),
            text: "\(me.displayName)撤回了一条消息", createTime: now
        )
        notice.extra = [("actionType", "revoke"), ("group", .null)]
        let reply: RedisReply
        do {
            reply = try await delivery.scripts.run(
                "message_revoke_single",
                keys: [
                    RedisKeys.singleHistory(owner: me.id, peer: request.peer),
                    RedisKeys.singleHistory(owner: request.peer, peer: me.id), StreamName.messages,
                ],
                arguments: [
                    request.messageID, String(me.id), String(request.peer), String(window), String(policy.streamCap),
                    String(policy.historyCap), notice.from.name, notice.from.avatar, notice.to.name, notice.to.avatar,
                    JSONSerializer.string(SystemNotice.data(notice.text)),
                ]
            )
        } catch {
            logger.warning("revoke not done", metadata: ["user": "\(me.id)", "error": "\(error)"])
            throw APIFailure(Self.failed)
        }
        switch reply.scriptError {
        case "missing": throw APIFailure(refusal(request, now: now, window: window))
        case "expired": throw APIFailure(Self.expired)
        case .some(let error):
            logger.error("revoke script failed", metadata: ["error": "\(error)"])
            throw APIFailure(Self.failed)
        case nil: break
        }
        guard let parts = reply.array, parts.count == 2, let revokedAt = parts[1].integer else {
            throw APIFailure(Self.failed)
        }
        notice.createTime = revokedAt
        let bytes = notice.bytes
        if parts[0].string == "revoked" {
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
        let reply: RedisReply
        do {
            reply = try await delivery.scripts.run(
                "message_revoke_group",
                keys: [RedisKeys.group(group), RedisKeys.groupMembers(group), RedisKeys.groupHistory(group), StreamName.messages],
                arguments: [
                    request.messageID, String(me.id), String(group), String(window),
                    String(policy.streamCap), String(policy.historyCap), me.displayName, me.avatar, request.peerName,
                    request.peerAvatar,
                ]
            )
        } catch {
            logger.warning("revoke not done", metadata: ["user": "\(me.id)", "error": "\(error)"])
            throw APIFailure(Self.failed)
        }
        switch reply.scriptError {
        case "group": throw APIFailure(Self.groupMissing)
        case "not_member": throw APIFailure(Self.notInGroup)
        case "missing": throw APIFailure(refusal(request, now: now, window: window))
        case "expired": throw APIFailure(Self.expired)
        case .some(let error):
            logger.error("group revoke script failed", metadata: ["error": "\(error)"])
            throw APIFailure(Self.failed)
        case nil: break
        }
        guard let parts = reply.array, parts.count >= 4, let revokedAt = parts[1].integer,
              let name = parts[2].string, let avatar = parts[3].string
        else { throw APIFailure(Self.failed) }
        var notice = SystemNotice(
            id: request.messageID,
            from: .init(id: .integer(Int64(me.id)), name: name, avatar: avatar),
            to: .init(id: .integer(Int64(group)), name: request.peerName, avatar: request.peerAvatar),
            text: "\(name) 撤回了一条消息", createTime: revokedAt
        )
        notice.chatType = "group"
        notice.extra = [("actionType", "revoke"), ("group", .null)]
        let bytes = notice.bytes
        if parts[0].string == "revoked" {
            let members = parts.dropFirst(4).compactMap { $0.string.flatMap { Int($0) } }
            do {
                try await delivery.deliver(bytes, toEach: members)
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
