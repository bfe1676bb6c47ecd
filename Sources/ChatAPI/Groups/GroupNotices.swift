import ChatGateway
import Foundation
import Logging
import Model

/// The notices of *Groups* (docs/api.md, docs/api.md *Server notices*): `chatType group`,
/// `to_*` = the group, the compact group object, pushed like messages to the members the
/// spec names in one fan-out (`MessageDelivery.deliver(_:toEach:)`), queued for the
/// offline, never in history or the streams. The approval request is the exception: a
/// `single` text to the owner with its `redirect`. They are sent after the change
/// committed; one that cannot be delivered is logged and lost, the change stands.
struct GroupNotices: Sendable {
    static let joinSender = "加群申请提醒"
    static let approvalSender = "加群处理"
    static let approvalPage = "/pages/setpageInfo/setpageInfo"

    let delivery: MessageDelivery
    /// Where the notice icons live (`--notice-icon-base`).
    let iconBase: String
    var logger = Logger(label: "bridge.groups")

    /// A notice from `from` to the members of `group`.
    func notice(_ text: String, from: SystemNotice.Party, group: GroupRow, now: Date = Date()) -> SystemNotice {
        var notice = SystemNotice(
            id: MessageID.random(), from: from,
            to: .init(id: .integer(Int64(group.id)), name: group.name, avatar: group.avatar),
            text: text, createTime: Self.milliseconds(now)
        )
        notice.chatType = "group"
        notice.extra = [("group", group.compact)]
        return notice
    }

    /// `me` as the group shows me: my group nickname / avatar, else my own.
    static func member(_ me: UserRow, row: GroupMemberRow?) -> SystemNotice.Party {
        .init(
            id: .integer(Int64(me.id)), name: row?.displayName(of: me) ?? me.displayName, avatar: row?.displayAvatar(of: me) ?? me.avatar
        )
    }

    /// The join-request sender of docs/api.md: `redirect-applyAddGroup{gid}-{uid}-{ms}`.
    static func joinKey(group: Int, user: Int, now: Date) -> String {
        "redirect-applyAddGroup\(group)-\(user)-\(milliseconds(now))"
    }

    /// `[{nick}] 加入了群聊` (with `[{inviter}]邀请 ` before it for an invitation), from
    /// the join-request sender.
    func joined(_ text: String, user: Int, group: GroupRow, now: Date = Date()) -> SystemNotice {
        let key = Self.joinKey(group: group.id, user: user, now: now)
        return notice(text, from: .init(id: .string(key), name: Self.joinSender, avatar: iconBase + "group.png"), group: group, now: now)
    }

    /// The approval request to the owner (docs/api.md, *join needs approval*).
    /// - Parameters: `inviter`: `[{name}]邀请 ` or ''; `description`: `addGroupDesc`.
    func approvalRequest(
        joiner: UserRow, inviter: String, invited: Bool, description: String, group: GroupRow, owner: SystemNotice.Party,
        now: Date = Date()
    ) -> SystemNotice {
        let key = Self.joinKey(group: group.id, user: joiner.id, now: now)
        var notice = SystemNotice(
            id: MessageID.random(), from: .init(id: .string(key), name: Self.approvalSender, avatar: iconBase + "group.png"),
            to: owner, text: "请处理申请 \(inviter)[\(joiner.displayName)] 加入了群[\(group.name)]", createTime: Self.milliseconds(now)
        )
        notice.type = "text"
        // As the old server: the inviter's name without its first `[`, `]` and `邀请`.
        var invitedBy = inviter
        for mark in ["[", "]", "邀请"] {
            if let range = invitedBy.range(of: mark) { invitedBy.removeSubrange(range) }
        }
        let detail: JSONValue = [
            "addGroupUserType": .string(invited ? "邀请进群" : "用户自主进群"), "inviteUser": .string(invited ? invitedBy : ""),
            "addGroupTime": .integer(Self.milliseconds(now)), "addGroupDesc": .string(description), "msgidKey": .string(key),
        ]
        // Every value is encoded: a nickname with `&`, `=` or `#` must not add or change a
        // parameter (it could point the owner's approval at another applicant).
        let url = Self.approvalPage + "?action=applyAddGroup&title=" + URIComponent.encode("加群申请") + "&id=\(group.id)"
            + "&name=" + URIComponent.encode(group.name) + "&avatar=" + URIComponent.encode(group.avatar)
            + "&chatType=group&applyUserid=\(joiner.id)&applyUsername=" + URIComponent.encode(joiner.displayName)
            + "&applyUseruuid=" + URIComponent.encode(joiner.uuid)
            + "&applyUseravatar=" + URIComponent.encode(joiner.avatar)
            + "&applydesc=" + URIComponent.encode(JSONSerializer.string(detail))
        notice.extra = [
            ("group", group.compact), ("redirect", ["url": .string(url), "type": "navigateTo"]), ("msgidKey", .string(key)),
        ]
        return notice
    }

    /// Sends a notice to `users`, in one fan-out.
    func send(_ notice: SystemNotice, to users: [Int]) async {
        do {
            try await delivery.deliver(notice.bytes, toEach: users)
        } catch {
            logger.error("group notice not delivered", metadata: ["users": "\(users.count)", "error": "\(error)"])
        }
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
}
