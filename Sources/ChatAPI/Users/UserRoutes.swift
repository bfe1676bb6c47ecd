import ChatGateway
import Hummingbird
import Model

/// docs/api.md *Users and settings*.
package struct UserRoutes: Sendable {
    let directory: UserDirectory
    var store: AccountStore { directory.store }

    func register(public router: some RouterMethods<BridgeRequestContext>, chat: some RouterMethods<BridgeRequestContext>) {
        router.get("api/userinfo/:uuid") { _, context -> Response in
            let uuid = context.parameters.get("uuid") ?? ""
            guard uuid.utf16.count == 36 else { throw APIFailure("参数uuid长度应在36-36之间") }
            guard let user = try await directory.user(uuid: uuid), user.status == 1 else { return APIResponse.ok(.null) }
            var result = user.json(["id", "uuid", "username", "nickname", "avatar", "role", "userset"])
            result["userinfo"] = .object(try await directory.userInfo(of: user.id))
            return APIResponse.ok(.object(result))
        }

        chat.post("searchUser") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let me = caller.user
            let keyword = try parameters.string("keyword", length: 1...50)
            let users = try await directory.search(keyword, excluding: me.id)
            return APIResponse.ok(.array(users.map { .object($0.json(["id", "username", "avatar", "role", "uuid", "nickname"])) }))
        }

        chat.post("isApplyfriend/:uuid") { request, context -> Response in
            let me = try await context.caller(of: request).identity.user
            let uuid = context.parameters.get("uuid") ?? ""
            guard uuid.utf16.count == 36, let them = try await directory.user(uuid: uuid), them.status == 1 else {
                throw APIFailure("用户不存在")
            }
            guard let request = try await directory.pendingRequest(from: them.id, to: me.id) else {
                throw APIFailure("用户申请信息不存在")
            }
            return APIResponse.ok(.object(request))
        }

        chat.post("userset") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let me = caller.user
            let userset = try parameters.string("userset", length: 2...Int.max)
            guard StoredLimits.User.userset.admits(userset) else { throw APIFailure.overLimit(StoredLimits.User.userset, StoredLimits.User.userset.refusal("userset")) }
            guard case .object = try? JSONParser.parse(userset) else { throw APIFailure("用户设置格式错误") }
            try await update(me, [("userset", userset)])
            return APIResponse.ok("ok")
        }

        chat.post("getUserSetInfo") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let me = caller.user
            let userID = Int(try parameters.integer("userid", in: 1...Int64(Int32.max)))
            guard let them = try await store.user(id: userID), them.status == 1, them.role == .user else {
                throw APIFailure("用户不存在或者为游客，无法加为好友")
            }
            let row = try await directory.friendRow(owner: them.id, friend: me.id)
            let blocked = row.map { $0["isblack"]?.integerValue == 1 || $0["status"]?.integerValue != 1 } ?? false
            var result = them.json(["id", "userset", "invite_confirm", "uuid"])
            result["isgoodfriend"] = .bool(row != nil)
            result["isgoodfriend_status"] = .bool(!blocked)
            return APIResponse.ok(.object(result))
        }

        chat.post("updateUserinfo") { request, context -> Response in
            let (parameters, caller) = try await context.caller(of: request)
            let me = caller.user
            let field = try parameters.string("fieldname", length: 1...30)
            let value = try parameters.string("fieldValue", length: 1...Int.max)
            let answer: String
            switch field {
            case "username":
                throw APIFailure("账号不可修改")
            case "nickname":
                let limit = StoredLimits.User.nickname
                guard limit.admits(value) else { throw APIFailure.overLimit(limit, "昵称长度不能超过\(limit.maximum)个字符") }
                try await update(me, [("nickname", value)])
                answer = "修改昵称成功"
            case "avatar":
                let limit = StoredLimits.User.avatar
                guard limit.admits(value) else { throw APIFailure.overLimit(limit, "头像地址过长不能超过\(limit.maximum)个字符") }
                try await update(me, [("avatar", value)])
                answer = "头像更新成功"
            case "invite_confirm":
                guard value == "0" || value == "1" else { throw APIFailure("添加我为好友设置值错误") }
                try await update(me, [("invite_confirm", value)])
                answer = "设置成功"
            default:
                answer = ""
            }
            _ = try? await store.redis.send("SET", store.keys.userModified(me.id), field, "EX", 60)
            return APIResponse.ok(.string(answer))
        }
    }

    private func update(_ user: UserRow, _ columns: [(String, String)]) async throws(APIFailure) {
        do {
            _ = try await store.update(user, requireActive: false, columns: columns)
        } catch AccountStore.Refusal.unavailable {
            throw APIFailure("用户不存在，无法修改信息")
        } catch {
            throw APIFailure("修改失败，请稍后再试")
        }
    }
}
