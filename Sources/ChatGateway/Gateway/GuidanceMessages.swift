import Model

/// The guidance messages a connection gets after the welcome (docs/api.md, *Guidance
/// messages on connect*): built like offline notices, pushed only to the live connection
/// (not queued, not in history, not in the streams), chosen by the token's role and by
/// two facts about the account.
package struct GuidanceMessages: Sendable {
    struct Facts: Sendable, Equatable {
        /// A member of at least one active group.
        var inActiveGroup = false
        /// Owns at least one active, non-blacklisted friend row.
        var hasActiveFriend = false
    }

    private enum Audience {
        case everyone, users, visitors
    }

    private enum Condition {
        case always, inActiveGroup, hasActiveFriend
    }

    private struct Entry {
        let key: String
        let audience: Audience
        let condition: Condition
        let label: String
        let text: String
        /// Icon path under `iconBase`; nil: the user's own avatar.
        let icon: String?
        let url: Link

        func isSent(to role: Role, facts: Facts) -> Bool {
            switch audience {
            case .users where role != .user, .visitors where role != .visitor: return false
            default: break
            }
            switch condition {
            case .inActiveGroup where !facts.inActiveGroup, .hasActiveFriend where !facts.hasActiveFriend: return false
            default: return true
            }
        }
    }

    /// Where an entry leads: most links are the same for everyone, built once.
    private enum Link {
        case fixed(String)
        case forUser(@Sendable (UserRow) -> String)

        func url(for user: UserRow) -> String {
            switch self {
            case .fixed(let url): url
            case .forUser(let url): url(user)
            }
        }
    }

    /// Where the icons live (configurable: `--notice-icon-base`).
    let iconBase: String
    /// Each entry's message, serialized once (`entries`' order).
    private let templates: [GuidanceTemplate]

    package init(iconBase: String) {
        self.iconBase = iconBase
        templates = Self.entries.map { entry in
            let perUser = if case .forUser = entry.url { true } else { false }
            return GuidanceTemplate(perUserLink: perUser) { user, now, id, link in
                Self.message(entry, for: user, now: now, id: id, link: link, iconBase: iconBase).bytes
            }
        }
    }

    package static let defaultIconBase = "https://docs-51yrc-com.oss-cn-hangzhou.aliyuncs.com/chat/"

    private static let setpage = "/pages/setpageInfo/setpageInfo"

    /// In the table's order, which is the order they are sent in.
    private static let entries: [Entry] = [
        Entry(key: "groupList", audience: .everyone, condition: .inActiveGroup, label: "我的群聊", text: "可查看我加入的群聊列表",
              icon: "img/grouplist.png", url: .fixed("/pages/applyMyfriend/applyMyfriend?action=grouplist&title=\(URIComponent.encode("我的群聊列表"))")),
        Entry(key: "friendsList", audience: .users, condition: .hasActiveFriend, label: "我的通讯录", text: "可查看我的通讯录好友",
              icon: "img/friendList.png", url: .fixed("/pages/friendsList/friendsList")),
        Entry(key: "userInfoSet", audience: .users, condition: .always, label: "头像设置", text: "不满意你的头像可以更换",
              icon: nil, url: .fixed(userInfoSetURL)),
        Entry(key: "whoCanChatMe", audience: .everyone, condition: .always, label: "聊天消息条数限制",
              text: "谁可以和我聊天，可向我发几条消息", icon: "img/whoCanChatMe.png", url: .fixed("\(setpage)?action=chatset&title=\(URIComponent.encode("和我聊天设置"))")),
        Entry(key: "myQrcode", audience: .users, condition: .always, label: "我的二维码", text: "展示给别人加你为好友",
              icon: "img/myQrcode1.png", url: .forUser { user in
            "\(setpage)?action=groupQrcode&title=\(URIComponent.encode("我的二维码"))&id=\(user.id)"
                + "&name=\(URIComponent.encode(user.displayName))&avatar=\(URIComponent.encode(user.avatar))&chatType=single"
        }),
        Entry(key: "search", audience: .users, condition: .always, label: "搜索加好友", text: "搜索账号加好友或聊天",
              icon: "img/search.png", url: .fixed("/pages/search/search")),
        Entry(key: "applyAddMeFriendSet", audience: .users, condition: .always, label: "加我为好友时是否需要我验证",
              text: "默认不需要，您可以去设置", icon: "kefu.png", url: .fixed("\(setpage)?action=applyAddMeFriendSet&title=\(URIComponent.encode("申请加我为好友设置"))")),
        Entry(key: "setPassword", audience: .users, condition: .always, label: "修改密码", text: "您可以点击这里，修改密码",
              icon: "kefu.png", url: .fixed("\(setpage)?action=setPassword&title=\(URIComponent.encode("修改密码"))")),
        Entry(key: "AskAndAnswerSet", audience: .users, condition: .always, label: "问答设置",
              text: "当您不在线时，自动回答客户的常见问题", icon: "kefu.png", url: .fixed("\(setpage)?action=AskAndAnswerSet&title=\(URIComponent.encode("问答设置"))")),
        Entry(key: "visitorLogin", audience: .visitors, condition: .always, label: "登录提示", text: "欢迎您，登录可以获取更多功能！",
              icon: "kefu.png", url: .fixed("/pages/loginCenter/loginCenter")),
    ]

    /// The message objects (JSON bytes) for a connection of `user` with a token of `role`.
    func messages(for user: UserRow, role: Role, facts: Facts, now: Int64) -> [[UInt8]] {
        let fields = GuidanceTemplate.Fields(user: user, now: now)
        return zip(Self.entries, templates).compactMap { entry, template in
            guard entry.isSent(to: role, facts: facts) else { return nil }
            let link: String? = if case .forUser = entry.url { entry.url.url(for: user) } else { nil }
            return template.message(fields, id: MessageID.random(), link: link)
        }
    }

    /// The same built as any notice is, from `SystemNotice` (what the templates are made
    /// of), with the given message ids: the reference the tests hold the templates to.
    func messagesBuiltAnew(for user: UserRow, role: Role, facts: Facts, now: Int64, ids: [String]) -> [[UInt8]] {
        var ids = ids.makeIterator()
        return Self.entries.compactMap { entry in
            guard entry.isSent(to: role, facts: facts) else { return nil }
            return Self.message(entry, for: user, now: now, id: ids.next() ?? MessageID.random(), link: nil, iconBase: iconBase).bytes
        }
    }

    /// The avatar notice (docs/api.md, *Avatar notice*): after an avatar change the client
    /// reconnects, and refreshes the avatar in its conversation list on
    /// `redirect.doaction == "avatar"`. Built as the guidance messages, but delivered
    /// (pushed or queued) like any notice.
    func avatarNotice(for user: UserRow, now: Int64) -> [UInt8] {
        let from = "redirect-userInfoSet-\(user.id)"
        var notice = SystemNotice(
            id: MessageID.random(),
            from: .init(id: .string(from), name: "头像更换成功", avatar: user.avatar),
            to: .init(id: .integer(Int64(user.id)), name: user.displayName, avatar: user.avatar),
            text: "不满意你的头像可以继续更换", createTime: now
        )
        notice.type = "text"
        notice.extra = [
            ("redirect", ["url": .string(Self.userInfoSetURL), "type": "navigateTo", "doaction": "avatar"]),
            ("group", .object([:])),
            ("msgidKey", .string(from)),
        ]
        return notice.bytes
    }

    /// Where `userInfoSet` and the avatar notice lead: the account settings, then the chats.
    private static let userInfoSetURL = "\(setpage)?action=userinfoSet&title=\(URIComponent.encode("账号信息设置"))"
        + "&redirectUrl=\(URIComponent.encode("/pages/xiaoxi/xiaoxi"))&redirectType=switchTab"

    /// `link`: instead of the entry's own.
    private static func message(
        _ entry: Entry, for user: UserRow, now: Int64, id: String, link: String?, iconBase: String
    ) -> SystemNotice {
        let from = "redirect-\(entry.key)-\(user.id)"
        var notice = SystemNotice(
            id: id,
            from: .init(id: .string(from), name: entry.label, avatar: entry.icon.map { iconBase + $0 } ?? user.avatar),
            to: .init(id: .integer(Int64(user.id)), name: user.displayName, avatar: user.avatar),
            text: entry.text, createTime: now
        )
        notice.type = "text"
        notice.extra = [
            ("redirect", ["url": .string(link ?? entry.url.url(for: user)), "type": "navigateTo"]),
            ("group", .object([:])),
            ("msgidKey", .string(from)),
        ]
        return notice
    }
}

extension UserRow {
    /// What the client shows for a user: the nickname, else the username.
    package var displayName: String { nickname.isEmpty ? username : nickname }
}
