import ChatGateway
import Foundation
import Hummingbird
import Model

/// docs/api.md *Groups* (all but `groupQrcode`): creating, listing and showing groups, the
/// owner's settings, nicknames, joining with the four policies and the approval flow,
/// removing, dissolving and quitting; each change one script, then its notice.
package struct GroupRoutes: Sendable {
    let store: GroupStore
    /// The same friendships the friend routes change (invites are checked against them).
    let friends: FriendStore
    let notices: GroupNotices

    static let noUsers = "请选择加入群聊的用户"
    static let noActiveUsers = "用户不存在，无法加入群聊"
    static let unavailable = "群不存在或被封禁"
    static let renameRefused = "只有群主才能修改群名称"
    static let remarkRefused = "只有群主才能修改群公告"
    static let nicknameRefused = "你不在该群聊中，无法修改昵称"
    static let ownerOnly = "只有群主才能操作"
    static let removingSelf = "群主不能删除自己"
    static let removed = "删除群成员成功"
    static let settingRefused = "群不存在或者被封禁或者你无权操作"
    static let settingDone = "设置成功"
    static let joinGroupMissing = "群不存在或者被封禁"
    static let joinPending = "已申请加入群聊，正在等待群主同意"
    static let joinAlready = "用户已经在群里"
    static let joinerMissing = "加群的用户不存在或已被封禁，无法加入群聊"
    static let loginFirst = "请先登录再申请进群"
    static let illegal = "非法操作"
    static let waiting = "等待群主同意"
    static let joined = "加群成功"
    static let handled = "处理成功"
    static let missing = "群不存在"
    static let notMember = "你不在该群聊中，操作失败"
    /// Creating or joining beyond `--group-max-members` (docs/operations.md, *Quotas*).
    static let full = "群成员人数已达上限"
    /// A user I would put into a group (create, invite) blocks me (docs/api.md, *Blocks*).
    static let blocked = "对方把你拉黑了，不能邀请对方加入群聊"

    /// Group names are cut to this many UTF-16 code units (the `name` column).
    static let nameLength = StoredLimits.Group.derivedName.maximum
    /// Avatars in a group's avatar.
    static let avatarCount = 9
    /// Group ids, user ids, pages and page sizes (as the old validator: a minimum only).
    static let ids: ClosedRange<Int64> = 1...Int64.max
    /// Pages and page sizes are read no further than this, so that `(page - 1) * limit`
    /// cannot overflow.
    static let countBound = Int64(Int32.max)
    /// `inviteuser_id`: 0 none, -1 a self-application, else the inviter.
    static let inviters: ClosedRange<Int64> = -1...Int64.max
    static let memberUserColumns = ["id", "username", "avatar", "nickname", "uuid", "role"]
    static let listMemberColumns = ["group_id", "user_id", "nickname", "avatar"]
    static let shownGroupColumns = GroupRow.columns.filter { $0 != "update_time" }
    static let shownMemberColumns = GroupMemberRow.columns.filter { $0 != "update_time" }

    func register(chat: some RouterMethods<BridgeRequestContext>) {
        let chat = chat.group().add(middleware: FailureMiddleware(form: .fail, feature: "groups"))
        chat.post("group/create") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let rowIDs = try Self.rowIDs(parameters)
            try await create(by: caller.user, rowIDs: rowIDs)
            return APIResponse.ok("ok")
        }

        chat.get("grouplist/:page") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let page = min(try RequestParameters.pathInteger("page", of: context, in: Self.ids), Self.countBound)
            let limit = min(try parameters.optionalInteger("limit", in: Self.ids) ?? 30, Self.countBound)
            return APIResponse.ok(.array(try await list(of: caller.user.id, offset: Int((page - 1) * limit), limit: Int(limit))))
        }

        chat.get("groupinfo/:id") { request, context -> Response in
            _ = try await context.caller(of: request)
            let id = Int(try RequestParameters.pathInteger("id", of: context, in: Self.ids))
            return APIResponse.ok(.object(try await info(id)))
        }

        chat.post("groupUpdateName") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let id = Int(try parameters.integer("id", in: Self.ids))
            let name = try parameters.string("name", length: 1...StoredLimits.Group.name.maximum)
            let change = try await Self.refusing([.notOwner: Self.renameRefused]) {
                try await store.set("rename", name, group: id, by: caller.user.id, now: Date())
            }
            await notify(change, by: caller.user, text: "群名称修改为：\(name)")
            return APIResponse.ok("ok")
        }

        chat.post("groupremark") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let id = Int(try parameters.integer("id", in: Self.ids))
            let remark = try parameters.string("remark", length: 1...StoredLimits.Group.remark.maximum)
            let change = try await Self.refusing([.notOwner: Self.remarkRefused]) {
                try await store.set("remark", remark, group: id, by: caller.user.id, now: Date())
            }
            await notify(change, by: caller.user, text: "[公告] \n\n \(remark)")
            return APIResponse.ok("ok")
        }

        chat.post("groupnickname") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let id = Int(try parameters.integer("id", in: Self.ids))
            let nickname = try parameters.string("nickname", length: 1...StoredLimits.Group.nickname.maximum)
            _ = try await Self.refusing([.notMember: Self.nicknameRefused]) {
                try await store.set("nickname", nickname, group: id, by: caller.user.id, now: Date())
            }
            return APIResponse.ok("ok")
        }

        chat.post("groupDeleteUser") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let id = Int(try parameters.integer("group_id", in: Self.ids))
            let user = Int(try parameters.integer("user_id", in: Self.ids))
            _ = try await Self.refusing([.notOwner: Self.ownerOnly, .removingSelf: Self.removingSelf]) {
                try await store.remove(user, from: id, by: caller.user.id, now: Date())
            }
            return APIResponse.ok(.string(Self.removed))
        }

        chat.post("groupAddUserSet") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let id = Int(try parameters.integer("group_id", in: Self.ids))
            let policy = try parameters.integer("addGroupSet", in: 0...10)
            _ = try await Self.refusing([.notOwner: Self.settingRefused]) {
                try await store.set("policy", String(policy), group: id, by: caller.user.id, now: Date())
            }
            return APIResponse.ok(.string(Self.settingDone))
        }

        chat.post("groupInviteUser") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let id = Int(try parameters.integer("group_id", in: Self.ids))
            let joiner = Int(try parameters.integer("user_id", in: Self.ids))
            let inviter = try parameters.optionalInteger("inviteuser_id", in: Self.inviters) ?? 0
            let description = try Self.optionalText(parameters, "addGroupDesc", maximum: 500)
            return APIResponse.ok(.string(try await join(
                joiner, group: id, inviter: inviter, description: description, caller: caller.user
            )))
        }

        chat.post("groupAgreeOrNo") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let id = Int(try parameters.integer("group_id", in: Self.ids))
            let user = Int(try parameters.integer("user_id", in: Self.ids))
            let agree = try parameters.oneOf("type", ["agree", "no"]) == "agree"
            let change = try await Self.refusing([.notOwner: Self.settingRefused, .illegal: Self.illegal]) {
                try await store.decide(user, agree: agree, group: id, by: caller.user.id, now: Date())
            }
            if change.result == .agreed, let group = change.group, let joiner = try await store.accounts.user(id: user) {
                await notices.send(notices.joined("[\(joiner.displayName)] 加入了群聊", user: user, group: group), to: change.recipients)
            }
            return APIResponse.ok(.string(Self.handled))
        }

        chat.post("groupDeleteOrQuit") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let id = Int(try parameters.integer("id", in: Self.ids))
            let me = caller.user
            let change = try await Self.refusing([.missing: Self.missing, .notMember: Self.notMember]) {
                try await store.leave(id, by: me.id, now: Date())
            }
            let time = TimeFormat.noticeTime(Date())
            let name = change.actor?.displayName(of: me) ?? me.displayName
            let text = change.result == .dissolved ? "群主于 \(time) 解散了该群" : "\(name)于 \(time) 已退出群聊"
            await notify(change, by: me, text: text)
            return APIResponse.ok("ok")
        }
    }

    // MARK: The routes' work

    /// `group/create`: my usable rows' friends who are active, me first.
    private func create(by me: UserRow, rowIDs: Set<Int>) async throws {
        let rows = try await friends.rows(of: me.id).filter { rowIDs.contains($0.id) && $0.isActive && !$0.isBlacklisted }
        let friendIDs = Array(Set(rows.map(\.friendID)).subtracting([me.id])).sorted()
        guard !friendIDs.isEmpty else { throw APIFailure(Self.noUsers) }
        guard friendIDs.count < store.maxMembers else {
            QuotaRefusals.groupMembers.increment()
            throw APIFailure(Self.full)
        }
        for attempt in 1...GroupStore.attempts {
            let users = try await friends.users(friendIDs).values.filter { $0.status == 1 }.sorted { $0.id < $1.id }
            guard !users.isEmpty else { throw APIFailure(Self.noActiveUsers) }
            let members = [me] + users
            let name = Self.cut(members.map(\.displayName).joined(separator: "、"), to: Self.nameLength)
            let avatar = members.prefix(Self.avatarCount).map(\.avatar).joined(separator: ",")
            do {
                let group = try await Self.refusing([.blocked: Self.blocked]) {
                    try await store.create(by: me, users: users, name: name, avatar: avatar, now: Date())
                }
                let notice = notices.notice(
                    "\(me.displayName)创建了一个群，大家可以开始聊天了",
                    from: .init(id: .integer(Int64(me.id)), name: me.displayName, avatar: me.avatar), group: group
                )
                await notices.send(notice, to: members.map(\.id))
                return
            } catch GroupStore.Refusal.stale where attempt < GroupStore.attempts {
                continue  // one of them was disabled meanwhile
            }
        }
    }

    /// `grouplist`: active groups where I am an active member, newest first, each with
    /// my row only.
    private func list(of me: Int, offset: Int, limit: Int) async throws -> [JSONValue] {
        let ids = try await store.groupIDs(of: me)
        let rows = try await store.memberRows(of: me, in: ids)
        let groups = try await store.groups(ids.filter { rows[$0]?.status == .active })
        return groups.filter(\.isActive).dropFirst(offset).prefix(limit).map { group -> JSONValue in
            var object = group.json(Self.shownGroupColumns)
            object["group_users"] = .array(rows[group.id].map { [JSONValue.object($0.json(Self.listMemberColumns))] } ?? [])
            return .object(object)
        }
    }

    /// `groupinfo`: the group with its active members and their users.
    private func info(_ id: Int) async throws -> JSONObject {
        guard let group = try await store.group(id), group.isActive else { throw APIFailure(Self.unavailable) }
        let members = try await store.members(of: id).filter { $0.status == .active }
        let users = try await friends.users(members.map(\.userID))
        var object = group.json(Self.shownGroupColumns)
        object["group_users"] = .array(members.map { member -> JSONValue in
            var row = member.json(Self.shownMemberColumns)
            row["user"] = users[member.userID].map { .object($0.json(Self.memberUserColumns)) } ?? .null
            return .object(row)
        })
        return object
    }

    /// `groupInviteUser`: the answer's text; the join notice or the approval request.
    private func join(_ joiner: Int, group id: Int, inviter: Int64, description: String, caller me: UserRow) async throws -> String {
        let refusals: [GroupStore.Refusal: String] = [
            .groupMissing: Self.joinGroupMissing, .illegal: Self.illegal, .pending: Self.joinPending,
            .already: Self.joinAlready, .full: Self.full, .joinerMissing: Self.joinerMissing, .loginFirst: Self.loginFirst,
            .blocked: Self.blocked,
        ]
        let change = try await Self.refusing(refusals) {
            do {
                return try await store.join(joiner, group: id, invitedBy: inviter, caller: me.id, now: Date())
            } catch GroupStore.Refusal.full {
                QuotaRefusals.groupMembers.increment()
                throw GroupStore.Refusal.full
            }
        }
        guard let group = change.group, let user = try await store.accounts.user(id: joiner) else {
            return change.result == .waiting ? Self.waiting : Self.joined
        }
        let invitation = try await invitationPrefix(inviter, group: id)
        if change.result == .waiting {
            let owner = try await store.accounts.user(id: group.ownerID)
            let ownerRow = try await store.member(group.ownerID, of: id)
            let party = owner.map { GroupNotices.member($0, row: ownerRow) }
                ?? SystemNotice.Party(id: .integer(Int64(group.ownerID)), name: "", avatar: "")
            let notice = notices.approvalRequest(
                joiner: user, inviter: invitation, invited: inviter > 0, description: description, group: group, owner: party
            )
            await notices.send(notice, to: [group.ownerID])
            return Self.waiting
        }
        await notices.send(notices.joined("\(invitation)[\(user.displayName)] 加入了群聊", user: joiner, group: group), to: change.recipients)
        return Self.joined
    }

    /// `[{name}]邀请 ` for an inviter who is an active registered user (named by their
    /// group nickname, else nickname or username), else ''.
    private func invitationPrefix(_ inviter: Int64, group: Int) async throws -> String {
        guard inviter > 0, let user = try await store.accounts.user(id: Int(inviter)), user.status == 1, user.role == .user else {
            return ""
        }
        let row = try await store.member(user.id, of: group)
        return "[\(row?.displayName(of: user) ?? user.displayName)]邀请 "
    }

    /// The notice of a rename, an announcement, a dissolution or a quit, from the caller
    /// as the group shows them, to the recipients the script named.
    private func notify(_ change: GroupStore.Change, by me: UserRow, text: String) async {
        guard let group = change.group else { return }
        await notices.send(notices.notice(text, from: GroupNotices.member(me, row: change.actor), group: group), to: change.recipients)
    }

    // MARK: Parameters and answers

    /// `userIds`: an array of goodfriend row ids (numbers or numeric strings); a form
    /// body may carry it as JSON text.
    static func rowIDs(_ parameters: RequestParameters) throws(APIFailure) -> Set<Int> {
        var value = parameters["userIds"]
        if case .string(let text) = value { value = try? JSONParser.parse(Array(text.utf8)) }
        switch value {
        case .none, .null: throw APIFailure("参数userIds不能为空")
        case .array(let items):
            var ids = Set<Int>()
            for item in items {
                guard let id = item.integerValue, ids.count < 10_000 else { throw APIFailure("参数userIds必须是数组") }
                if Self.ids.contains(id) { ids.insert(Int(id)) }
            }
            return ids
        default: throw APIFailure("参数userIds必须是数组")
        }
    }

    /// An optional text of at most `maximum` UTF-16 code units ('' when absent).
    static func optionalText(_ parameters: RequestParameters, _ name: String, maximum: Int) throws(APIFailure) -> String {
        try parameters.optionalString(name, length: 0...maximum) ?? ""
    }

    /// The first `length` UTF-16 code units (never half a surrogate pair).
    static func cut(_ text: String, to length: Int) -> String {
        guard text.utf16.count > length else { return text }
        var result = ""
        var used = 0
        for character in text.unicodeScalars {
            used += character.utf16.count
            guard used <= length else { break }
            result.unicodeScalars.append(character)
        }
        return result
    }

    /// Runs a change, answering the store's refusals with their texts.
    private static func refusing<Result>(
        _ texts: [GroupStore.Refusal: String], _ change: () async throws -> Result
    ) async throws -> Result {
        try await APIFailure.refusing(texts, change)
    }

}
