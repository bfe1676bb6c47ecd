import ChatGateway
import Foundation
import Logging
import Model

/// The notices of *Friends* (docs/api.md, *Server notices*): pushed like messages,
/// queued while the user is offline, never in history or the streams. They are sent
/// after the change committed; one that cannot be delivered is logged and lost, the
/// change stands.
struct FriendNotices: Sendable {
    static let requestSender = "好友申请提醒"
    static let agreedText = "我们已经是好友了，可以开始聊天了"
    static let requestPage = "/pages/applyMyfriend/applyMyfriend"

    let delivery: MessageDelivery
    /// Where the notice icons live (`--notice-icon-base`).
    let iconBase: String
    var logger = Logger(label: "bridge.friends")

    /// `applyfriend` → the target: a `text` notice linking to their request list.
    func sendRequest(from me: UserRow, to target: UserRow, now: Date = Date()) async {
        let sender = "redirect-applyFriend-\(me.id)"
        var notice = SystemNotice(
            id: MessageID.random(),
            from: .init(id: .string(sender), name: Self.requestSender, avatar: iconBase + "group.png"),
            to: .init(id: .integer(Int64(target.id)), name: target.displayName, avatar: target.avatar),
            text: "用户[\(me.displayName)]申请添加您为好友，请尽快处理",
            createTime: Self.milliseconds(now)
        )
        notice.type = "text"
        notice.extra = [
            ("redirect", ["url": .string(Self.requestPage), "type": "navigateTo"]),
            ("msgidKey", .string(sender)),
        ]
        await send(notice, to: target.id)
    }

    /// A friendship came into being: each side gets the notice from the other. Either
    /// way a user is named by the other's remark for them, else nickname or username.
    /// - Parameters: `me` acted; `friendship.mine` is my row for `other`, `.theirs` theirs for me.
    func sendAgreed(me: UserRow, other: UserRow, friendship: FriendStore.Friendship, now: Date = Date()) async {
        let myself = SystemNotice.Party(
            id: .integer(Int64(me.id)), name: friendship.theirs.remark.isEmpty ? me.displayName : friendship.theirs.remark,
            avatar: me.avatar
        )
        let them = SystemNotice.Party(
            id: .integer(Int64(other.id)), name: friendship.mine.remark.isEmpty ? other.displayName : friendship.mine.remark,
            avatar: other.avatar
        )
        // As the old server did: the other user first, then me.
        await send(agreed(from: myself, to: them, now: now), to: other.id)
        await send(agreed(from: them, to: myself, now: now), to: me.id)
    }

    private func agreed(from: SystemNotice.Party, to: SystemNotice.Party, now: Date) -> SystemNotice {
        SystemNotice(id: MessageID.random(), from: from, to: to, text: Self.agreedText, createTime: Self.milliseconds(now))
    }

    private func send(_ notice: SystemNotice, to user: Int) async {
        do {
            try await delivery.deliver(notice.bytes, to: user)
        } catch {
            logger.error("friend notice not delivered", metadata: ["user": "\(user)", "error": "\(error)"])
        }
    }

    private static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
}
