import ChatGateway
import HTTPTypes
import Hummingbird
import Model

/// docs/api.md *Files*: the two upload endpoints. Both stream the file to the upload folder;
/// the middleware leaves multipart bodies unread, so the token comes from the header
/// `token` or the query.
package struct UploadRoutes: Sendable {
    let receiver: UploadReceiver
    let policy: FilePolicy
    let quota: UploadQuota

    /// `uploadAliyun` prefixes every reason with this (the old server's `'上传失败: ' + error.message`).
    static let aliyunFailurePrefix = "上传失败: "

    func register(chat: some RouterMethods<BridgeRequestContext>) {
        chat.post("uploadStreamSingleToServerDiy/:diydir") { request, context -> Response in
            do throws(UploadRefusal) {
                guard let folder = context.parameters.get("diydir"), Self.isFolderName(folder) else { throw .badFolderName }
                try await take(context)
                let names = try await receiver.receive(request, field: "file", into: ["Diy", folder, UploadNames.day()]) {
                    UploadNames.diy(extension: $0)
                }
                return APIResponse.ok(["url": .string(UploadFolder.urlPrefix + names.joined(separator: "/"))])
            } catch {
                return APIResponse.fail(error.text)
            }
        }

        chat.post("uploadAliyun") { request, context -> Response in
            do throws(UploadRefusal) {
                // Number(imageClassId): what is not a number counts as the default class 0.
                let imageClass = request.uri.queryParameters["imageClassId"].flatMap { Int64($0) } ?? 0
                try await take(context)
                let names = try await receiver.receive(request, field: "img", into: ["images", UploadNames.day()]) {
                    UploadNames.aliyun(extension: $0)
                }
                let path = names.joined(separator: "/")
                let item: JSONObject = [
                    "url": .string(baseURL(of: request) + UploadFolder.urlPrefix + path),
                    "path": .string(path),
                    "image_class_id": .integer(imageClass),
                    "create_time": .integer(WallClock.milliseconds() / 1000),
                ]
                return APIResponse.ok([.object(item)])
            } catch {
                return APIResponse.fail(Self.aliyunFailurePrefix + error.text)
            }
        }
    }

    /// One upload of the caller's daily quota (the auth middleware put the caller in the context).
    private func take(_ context: BridgeRequestContext) async throws(UploadRefusal) {
        guard let user = context.identity?.user.id else { return }
        try await quota.take(user: user)
    }

    /// `:diydir`: 1–64 letters, digits, `_` or `-`.
    static func isFolderName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    true
                default: false
                }
            }
    }

    /// `--public-base-url`, else the scheme (`X-Forwarded-Proto` when a proxy says
    /// https) and the Host the client used.
    func baseURL(of request: Request) -> String {
        if let configured = policy.publicBaseURL { return configured }
        let scheme = request.headers[.xForwardedProto]?.lowercased() == "https" ? "https" : "http"
        return "\(scheme)://\(request.head.authority ?? "127.0.0.1")"
    }
}

extension HTTPField.Name {
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
}
