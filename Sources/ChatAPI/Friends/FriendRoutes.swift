import ChatGateway
import Foundation
import Hummingbird
import Model

/// docs/api.md *Friends*: requests, the address book and the settings of a friendship.
package struct FriendRoutes: Sendable {
    let store: FriendStore
    let notices: FriendNotices
    var directory: UserDirectory { UserDirectory(store: store.accounts) }

    static let selfRequest = "不能添加自己为好友"
    static let targetMissing = "添加的好友不存在"
    static let duplicate = "您已经申请过了，请勿重复申请"
    static let needsConfirm = "需要对方审核，不能自动加对方为好友"
    static let requestMissing = "申请不存在或已处理"
    static let friendMissing = "好友不存在"
    static let friendUnusable = "好友不存在或者被拉黑，无法操作"
    static let notFriends = "不是好友"
    static let notFriendsToDelete = "不是好友关系，无权操作"
    static let deleted = "删除好友成功"
    /// The other user blocks me (docs/api.md, *Blocks*): no request, addition or agreement.
    static let blocked = "对方把你拉黑了，不能添加好友"

    static let statuses = ["pending", "refuse", "agree", "ignore"]
    /// Ids, pages and page sizes (as the old validator: a minimum only).
    static let ids: ClosedRange<Int64> = 1...Int64.max
    /// Pages and page sizes are read no further than this, so that `(page - 1) * limit`
    /// cannot overflow; nobody has that many friends or requests.
    static let countBound = Int64(Int32.max)
    static let applicantColumns = ["id", "username", "avatar", "nickname", "uuid"]
    static let friendInfoColumns = ["id", "username", "avatar", "nickname", "role", "status"]
    static let friendInfoRowColumns = ["id", "user_id", "friend_id", "nickname"]
    /// My row without `order`, `create_time`, `update_time` (as the old server answered).
    static let isMyGoodFriendColumns = FriendRow.columns.filter { !["order", "create_time", "update_time"].contains($0) }

    func register(chat: some RouterMethods<BridgeRequestContext>) {
        let chat = chat.group().add(middleware: FailureMiddleware(form: .fail, feature: "friends"))
        chat.post("applyfriend") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let me = caller.user
            let friendID = Int(try parameters.integer("friend_id", in: Self.ids))
            let nickname = try parameters.optionalString("nickname", length: 1...StoredLimits.Friend.remark.maximum) ?? ""
            let target = try await target(friendID, of: me)
            try await Self.refusing([.missing: Self.targetMissing, .blocked: Self.blocked, .duplicate: Self.duplicate]) {
                try await store.apply(from: me, to: target.id, nickname: nickname, now: Date())
            }
            await notices.sendRequest(from: me, to: target)
            return APIResponse.ok("ok")
        }

        chat.get("listapplyfriend/:page") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let me = caller.user
            let (offset, limit) = try Self.page(parameters, context, defaultLimit: 10)
            let (requests, pending) = try await store.requests(to: me.id, offset: offset, limit: limit)
            let applicants = try await store.users(requests.map(\.userID))
            let rows = requests.map { application -> JSONValue in
                var row = application.json
                row["user"] = applicants[application.userID].map { .object($0.json(Self.applicantColumns)) } ?? .null
                return .object(row)
            }
            return APIResponse.ok(["alldata": .array(rows), "pendingCount": .integer(Int64(pending))])
        }

        chat.post("handleapply/:id") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let me = caller.user
            let id = try Self.pathID(context)
            let remark = try parameters.optionalString("nickname", length: 1...StoredLimits.Friend.remark.maximum) ?? ""
            let status = try parameters.oneOf("status", Self.statuses)
            guard let application = try await store.request(id, to: me.id), application.friendID == me.id,
                  application.status == "pending"
            else { throw APIFailure(Self.requestMissing) }
            // Read before the change, for the notices: nothing can fail after it.
            let applicant = status == "agree" ? try await store.accounts.user(id: application.userID) : nil
            let friendship = try await Self.refusing([.missing: Self.requestMissing, .blocked: Self.blocked]) {
                try await store.handle(application, by: me, status: status, remark: remark, now: Date())
            }
            if let friendship, friendship.created > 0, let applicant {
                await notices.sendAgreed(me: me, other: applicant, friendship: friendship)
            }
            return APIResponse.ok("ok")
        }

        chat.post("autoAddFriendAndAgree") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let me = caller.user
            let friendID = Int(try parameters.integer("friend_id", in: Self.ids))
            let nickname = try parameters.optionalString("nickname", length: 1...StoredLimits.Friend.remark.maximum) ?? ""
            let target = try await target(friendID, of: me)
            guard target.inviteConfirm == 0 else { throw APIFailure(Self.needsConfirm) }
            let refusals: [FriendStore.Refusal: String] = [
                .missing: Self.targetMissing, .blocked: Self.blocked, .needsConfirm: Self.needsConfirm,
                .duplicate: Self.duplicate,
            ]
            let friendship = try await Self.refusing(refusals) {
                try await store.autoAdd(from: me, to: target.id, nickname: nickname, now: Date())
            }
            if friendship.created > 0 {
                await notices.sendAgreed(me: me, other: target, friendship: friendship)
            }
            return APIResponse.ok("ok")
        }

        chat.get("goodfriendlist/:page") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let me = caller.user
            let (offset, limit) = try Self.page(parameters, context, defaultLimit: 2000)
            let all = try await store.rows(of: me.id)
            let rows = all.dropFirst(offset).prefix(limit)
            let friends = try await store.users(rows.map(\.friendID))
            let entries = rows.compactMap { row -> JSONObject? in
                guard let friend = friends[row.friendID] else { return nil }
                return [
                    "id": .integer(Int64(row.id)), "beizhu": .string(row.remark), "username": .string(friend.username),
                    "avatar": .string(friend.avatar), "friend_nickname": .string(friend.nickname),
                    "friend_id": .integer(Int64(friend.id)),
                    "name": .string(row.remark.isEmpty ? friend.displayName : row.remark), "uuid": .string(friend.uuid),
                ]
            }
            return APIResponse.ok([
                "count": .integer(Int64(entries.count)), "rows": FriendIndex.grouped(entries, total: all.count),
            ])
        }

        chat.get("getgoodfriendinfo/:id") { request, context -> Response in
            let me = try await context.caller(of: request).identity.user
            let friendID = try Self.pathID(context)
            guard let row = try await store.row(owner: me.id, friend: friendID) else { throw APIFailure(Self.friendMissing) }
            var friendInfo = JSONValue.null
            if let friend = try await store.accounts.user(id: friendID) {
                var info = friend.json(Self.friendInfoColumns)
                info["userinfo"] = .object(try await directory.userInfo(of: friend.id))
                friendInfo = .object(info)
            }
            var result = row.json(Self.friendInfoRowColumns)
            result["friendinfo"] = friendInfo
            return APIResponse.ok(.object(result))
        }

        chat.post("setblackgoodfriend/:id") { request, context -> Response in
            let me = try await context.caller(of: request).identity.user
            let friendID = try Self.pathID(context)
            try await Self.refusing([.missing: Self.friendMissing]) {
                try await store.toggleBlacklist(owner: me.id, friend: friendID, now: Date())
            }
            return APIResponse.ok("ok")
        }

        chat.post("setstargoodfriend/:id") { request, context -> Response in
            let me = try await context.caller(of: request).identity.user
            let friendID = try Self.pathID(context)
            try await Self.refusing([.missing: Self.friendUnusable]) {
                try await store.toggleStar(owner: me.id, friend: friendID, now: Date())
            }
            return APIResponse.ok("ok")
        }

        chat.post("setmeOrfriendCanSee/:id") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let me = caller.user
            let friendID = try Self.pathID(context)
            let friendLooksAtMe = try parameters.oneOf("friendlookme", ["0", "1"]) == "1" ? 1 : 0
            let iLookAtFriend = try parameters.oneOf("melookfriend", ["0", "1"]) == "1" ? 1 : 0
            try await Self.refusing([.missing: Self.friendUnusable]) {
                try await store.setVisibility(
                    owner: me.id, friend: friendID, friendLooksAtMe: friendLooksAtMe, iLookAtFriend: iLookAtFriend, now: Date()
                )
            }
            return APIResponse.ok("ok")
        }

        chat.post("ismygoodfriend/:id") { request, context -> Response in
            let me = try await context.caller(of: request).identity.user
            let friendID = try Self.pathID(context)
            guard let row = try await store.row(owner: me.id, friend: friendID), !row.isBlacklisted else {
                throw APIFailure(Self.notFriends)
            }
            return APIResponse.ok(.object(row.json(Self.isMyGoodFriendColumns)))
        }

        chat.post("deletegoodfriend/:id") { request, context -> Response in
            let me = try await context.caller(of: request).identity.user
            let friendID = try Self.pathID(context)
            try await Self.refusing([.missing: Self.notFriendsToDelete]) {
                try await store.delete(owner: me.id, friend: friendID, now: Date())
            }
            return APIResponse.ok(.string(Self.deleted))
        }
    }

    /// The target of a request: not me, and an active account.
    private func target(_ id: Int, of me: UserRow) async throws -> UserRow {
        guard id != me.id else { throw APIFailure(Self.selfRequest) }
        guard let target = try await store.accounts.user(id: id), target.status == 1 else { throw APIFailure(Self.targetMissing) }
        return target
    }

    /// `:page` and `?limit=` as an offset and a count.
    private static func page(
        _ parameters: RequestParameters, _ context: BridgeRequestContext, defaultLimit: Int64
    ) throws(APIFailure) -> (offset: Int, limit: Int) {
        let page = min(try RequestParameters.pathInteger("page", of: context, in: ids), countBound)
        let limit = min(try parameters.optionalInteger("limit", in: ids) ?? defaultLimit, countBound)
        return (Int((page - 1) * limit), Int(limit))
    }

    /// The path's `:id`: a user id, or (handleapply) a request id.
    private static func pathID(_ context: BridgeRequestContext) throws(APIFailure) -> Int {
        Int(try RequestParameters.pathInteger("id", of: context, in: ids))
    }

    /// Runs a change, answering the store's refusals with their texts.
    private static func refusing<Result>(
        _ texts: [FriendStore.Refusal: String], _ change: () async throws -> Result
    ) async throws -> Result {
        try await APIFailure.refusing(texts, change)
    }

}
