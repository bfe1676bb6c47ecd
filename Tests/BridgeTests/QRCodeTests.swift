import CPNG
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Model
import NIOCore
import QRCode
import RedisClient
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// `GET /api/chat/groupQrcode/:id`: the PNG is decoded (libpng), its modules read back
/// and compared with the symbol libqrencode makes of the expected content.
@Suite("QR codes", .offCooperativePool)
struct QRCodeTests {
    typealias Account = UserTests.Account

    /// A decoded 8-bit gray image.
    struct GrayImage {
        let width: Int
        let height: Int
        let pixels: [UInt8]

        init(png: [UInt8]) throws {
            var image = png_image()
            image.version = png_uint_32(PNG_IMAGE_VERSION)
            let begun = png.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
            try #require(begun != 0, "not a PNG")
            image.format = png_uint_32(PNG_FORMAT_GRAY)
            let (width, height) = (Int(image.width), Int(image.height))
            var pixels = [UInt8](repeating: 0, count: width * height)
            let finished = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, png_int_32(width), nil) }
            try #require(finished != 0, "PNG did not decode")
            (self.width, self.height, self.pixels) = (width, height, pixels)
        }

        /// The QR modules: 10 pixels each, 4 modules of white around (qr-image's drawing).
        func modules() throws -> QRMatrix {
            try #require(width == height && width % 10 == 0)
            let side = width / 10 - 8
            var modules: [Bool] = []
            for y in 0..<side {
                for x in 0..<side {
                    let value = pixels[(y * 10 + 45) * width + x * 10 + 45]
                    try #require(value == 0 || value == 255)
                    modules.append(value == 0)
                }
            }
            // The quiet zone is white.
            #expect(pixels[0..<(width * 40)].allSatisfy { $0 == 255 })
            return QRMatrix(width: side, modules: modules)
        }
    }

    static func qrcode(_ client: some TestClientProtocol, _ path: String) async throws -> (HTTPResponse.Status, String?, [UInt8]) {
        try await client.execute(uri: path, method: .get) { response in
            (response.status, response.headers[.contentType], Array(buffer: response.body))
        }
    }

    /// Checks that `path` answers a PNG holding exactly `content`.
    static func expectQRCode(_ client: some TestClientProtocol, _ path: String, holds content: String) async throws {
        let (status, type, body) = try await qrcode(client, path)
        #expect(status == .ok && type == "image/png", "\(String(decoding: body, as: UTF8.self))")
        let matrix = try GrayImage(png: body).modules()
        #expect(matrix == (try QRMatrix.encode(Array(content.utf8), correction: .medium)), "\(content)")
    }

    static func expectFailure(_ client: some TestClientProtocol, _ path: String, _ text: String) async throws {
        let (status, _, body) = try await qrcode(client, path)
        #expect(status == .badRequest)
        #expect(try JSONParser.parse(String(decoding: body, as: UTF8.self)) == AccountTests.fail(text), "\(path)")
    }

    /// A group row and member rows as the group scripts keep them (RedisKeys).
    static func makeGroup(_ redis: RedisClient, name: String, status: Int = 1, members: [(Account, Int)]) async throws -> Int {
        let id = Int.random(in: 10_000_000...2_000_000_000)
        _ = try await redis.send(
            "HSET", testKeys.group(id), "id", String(id), "name", name, "avatar", "", "user_id", String(members[0].0.id),
            "remark", "", "invite_confirm", "0", "status", String(status), "_v", "1"
        ).throwingOnError()
        for (account, memberStatus) in members {
            let row: JSONValue = ["id": .integer(Int64.random(in: 1...1_000_000)), "user_id": .integer(Int64(account.id)), "group_id": .integer(Int64(id)),
                                  "nickname": "", "avatar": "", "status": .integer(Int64(memberStatus)), "_v": 1]
            _ = try await redis.send("HSET", testKeys.groupMembers(id), String(account.id), JSONSerializer.string(row)).throwingOnError()
        }
        return id
    }

    @Test("groups: {\"id\",\"name\"} for the apps, the H5 page address with type=H5; only active members of active groups")
    func groups() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let owner = try await UserTests.register(client)
            let member = try await UserTests.register(client)
            let pending = try await UserTests.register(client)
            let muted = try await UserTests.register(client)
            let stranger = try await UserTests.register(client)
            let name = "周末 & 爬山 #1"
            let id = try await Self.makeGroup(redis, name: name, members: [(owner, 1), (member, 1), (pending, 2), (muted, 0)])

            try await Self.expectQRCode(client, "/api/chat/groupQrcode/\(id)?token=\(member.token)", holds: #"{"id":\#(id),"name":"周末 & 爬山 #1"}"#)
            let h5 = "/api/chat/groupQrcode/\(id)?token=\(owner.token)&type=H5&http=\(URIComponent.encode("https://h5.example.com/"))&chatType=group"
            let page = "https://h5.example.com/#/pages/setpageInfo/setpageInfo?action=autoAddGroup&title=%E7%BE%A4%E4%BB%8B%E7%BB%8D"
                + "&id=\(id)&chatType=group&name=\(URIComponent.encode(name))"
            try await Self.expectQRCode(client, h5, holds: page)
            // type=H5 without http: the app form.
            try await Self.expectQRCode(client, "/api/chat/groupQrcode/\(id)?token=\(owner.token)&type=H5", holds: #"{"id":\#(id),"name":"周末 & 爬山 #1"}"#)

            let refused = "群不存在或被封禁或者您不在该群聊中"
            for account in [pending, muted, stranger] {
                try await Self.expectFailure(client, "/api/chat/groupQrcode/\(id)?token=\(account.token)", refused)
            }
            try await Self.expectFailure(client, "/api/chat/groupQrcode/1999999999?token=\(owner.token)", refused)
            let locked = try await Self.makeGroup(redis, name: "locked", status: 2, members: [(owner, 1)])
            try await Self.expectFailure(client, "/api/chat/groupQrcode/\(locked)?token=\(owner.token)", refused)
            try await Self.expectFailure(client, "/api/chat/groupQrcode/abc?token=\(owner.token)", "参数id必须是整数")
            try await Self.expectFailure(client, "/api/chat/groupQrcode/\(id)?token=\(owner.token)&chatType=other", "参数chatType的值只能是group、single")
            try await Self.expectFailure(client, "/api/chat/groupQrcode/\(id)", ChatAuthMiddleware.noToken)
        }
    }

    @Test("single: an active user's code; H5 adds the avatar; missing or disabled users are refused")
    func users() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis).test(.router) { client in
            let me = try await UserTests.register(client)
            let other = try await UserTests.register(client)
            try await Self.expectQRCode(
                client, "/api/chat/groupQrcode/\(other.id)?token=\(me.token)&chatType=single", holds: #"{"id":\#(other.id),"name":"\#(other.username)"}"#
            )
            _ = try await redis.send("HSET", testKeys.user(other.id), "nickname", "小明").throwingOnError()
            let avatar = BridgeSettings.defaultUserAvatar
            try await Self.expectQRCode(
                client, "/api/chat/groupQrcode/\(other.id)?token=\(me.token)&chatType=single&type=H5&http=http://h5.test/",
                holds: "http://h5.test/#/pages/setpageInfo/setpageInfo?action=autoAddGroup&title=\(URIComponent.encode("个人介绍"))"
                    + "&id=\(other.id)&chatType=single&name=\(URIComponent.encode("小明"))&avatar=\(URIComponent.encode(avatar))"
            )
            try await Self.expectFailure(client, "/api/chat/groupQrcode/2000000000?token=\(me.token)&chatType=single", "用户不存在或被封禁")
            _ = try await redis.send("HSET", testKeys.user(other.id), "status", "0").throwingOnError()
            try await Self.expectFailure(client, "/api/chat/groupQrcode/\(other.id)?token=\(me.token)&chatType=single", "用户不存在或被封禁")
        }
    }

    @Test("the QR type: sizes of qr-image, byte mode for Chinese text, too long content refused")
    func drawing() throws {
        let png = try QRCodePNG().png(of: "hi")
        let image = try GrayImage(png: png)
        #expect(image.width == (21 + 8) * 10 && image.height == image.width)  // version 1: 21 modules
        #expect(try image.modules() == (try QRMatrix.encode(Array("hi".utf8))))
        let chinese = try QRMatrix.encode(Array("群介绍：周末爬山".utf8))
        #expect(chinese.width >= 21 && chinese.modules.contains(true))
        #expect(throws: QRCodeError.tooLong(5000)) { try QRMatrix.encode([UInt8](repeating: 0x41, count: 5000)) }
        #expect(throws: QRCodeError.emptyContent) { try QRMatrix.encode([]) }
    }
}
