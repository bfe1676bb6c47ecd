import ChatGateway
import Hummingbird
import Model
import QRCode
import RedisClient

/// docs/api.md `GET /api/chat/groupQrcode/:id?token=&type=&http=&chatType=`: a PNG QR code of
/// a group I am an active member of, or of an active user (the token may come in the
/// query: the client shows the image by its URL).
package struct QRCodeRoutes: Sendable {
    let accounts: AccountStore
    let drawing = QRCodePNG()

    static let groupUnavailable = "群不存在或被封禁或者您不在该群聊中"
    static let userUnavailable = "用户不存在或被封禁"
    static let chatTypes = ["group", "single"]

    func register(chat: some RouterMethods<BridgeRequestContext>) {
        chat.get("groupQrcode/:id") { request, context -> Response in
            do {
                let (parameters, caller) = try await context.caller(of: request)
                let id = Int(try RequestParameters.pathInteger("id", of: context, in: 1...Int64(Int32.max)))
                let chatType = parameters.query["chatType"].flatMap { $0.isEmpty ? nil : $0 } ?? "group"
                guard Self.chatTypes.contains(chatType) else {
                    throw APIFailure("参数chatType的值只能是\(Self.chatTypes.joined(separator: "、"))")
                }
                let subject = chatType == "single" ? try await user(id) : try await group(id, member: caller.user.id)
                let http = parameters.query["http"] ?? ""
                let h5 = parameters.query["type"] == "H5" && !http.isEmpty
                let content = QRCodeContent(subject: subject, h5Base: h5 ? http : nil)
                let png: [UInt8]
                do {
                    png = try drawing.png(of: content.text)
                } catch {
                    throw APIFailure("二维码生成失败")
                }
                return Response(
                    status: .ok, headers: [.contentType: "image/png", .cacheControl: "no-store"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: png))
                )
            } catch let failure as APIFailure {
                return APIResponse.fail(failure.text)
            }
        }
    }

    /// An active group (`status` 1) with me as an active member (`status` 1).
    private func group(_ id: Int, member userID: Int) async throws -> QRCodeContent.Subject {
        async let row = accounts.redis.send("HMGET", accounts.keys.group(id), "status", "name")
        async let member = accounts.redis.send("HGET", accounts.keys.groupMembers(id), String(userID))
        let fields = try await row.array ?? []
        guard fields.count == 2, fields[0].string == "1", let name = fields[1].string,
              let memberJSON = try await member.string,
              let memberRow = try? JSONParser.parse(memberJSON).objectValue,
              memberRow["status"]?.integerValue == 1
        else { throw APIFailure(Self.groupUnavailable) }
        return .group(id: id, name: name)
    }

    /// An active user, named as everywhere else: nickname, else username.
    private func user(_ id: Int) async throws -> QRCodeContent.Subject {
        guard let user = try await accounts.user(id: id), user.status == 1 else { throw APIFailure(Self.userUnavailable) }
        return .user(id: user.id, name: user.nickname.isEmpty ? user.username : user.nickname, avatar: user.avatar)
    }
}
