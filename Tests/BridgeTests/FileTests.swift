import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Model
import NIOCore
import RedisClient
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// docs/api.md *Files* over the real test Redis (for the tokens): uploads stream to a
/// temporary upload folder, are served back with ranges, refused cases leave nothing on
/// disk, traversal is refused both ways, and screenshots come from a real ffmpeg.
@Suite("Files", .offCooperativePool)
struct FileTests {
    typealias Account = UserTests.Account

    /// A temporary upload folder and the settings that use it.
    struct Fixture {
        let folder: URL
        var settings: BridgeSettings

        init(maxBytes: Int = 1 << 20, configure: (inout FilePolicy) -> Void = { _ in }) throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("uploads-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            settings = TestBridge.settings()
            settings.files.uploadFolder = folder.path
            settings.files.maxUploadBytes = maxBytes
            configure(&settings.files)
        }

        /// Every regular file in the folder (hidden ones too), relative paths.
        func files() -> [String] {
            guard let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
            return enumerator.compactMap { item -> String? in
                guard let url = item as? URL, (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { return nil }
                return String(url.path.dropFirst(folder.path.count + 1))
            }.sorted()
        }

        func file(_ urlPath: String) throws -> [UInt8] {
            let relative = try #require(urlPath.split(separator: "/public/uploads/").last)
            return Array(try Data(contentsOf: folder.appendingPathComponent(String(relative))))
        }

        func remove() { try? FileManager.default.removeItem(at: folder) }
    }

    static let boundary = "----chatBridgeTestBoundary1234"

    static func multipart(field: String, filename: String?, contentType: String? = nil, content: [UInt8], extra: [(String, String)] = []) -> ByteBuffer {
        var bytes: [UInt8] = []
        for (name, value) in extra {
            bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        var disposition = "form-data; name=\"\(field)\""
        if let filename { disposition += "; filename=\"\(filename)\"" }
        bytes += Array("--\(boundary)\r\nContent-Disposition: \(disposition)\r\n".utf8)
        if let contentType { bytes += Array("Content-Type: \(contentType)\r\n".utf8) }
        bytes += Array("\r\n".utf8) + content + Array("\r\n--\(boundary)--\r\n".utf8)
        return ByteBuffer(bytes: bytes)
    }

    static func upload(
        _ client: some TestClientProtocol, _ path: String, _ body: ByteBuffer, token: String?,
        contentType: String = "multipart/form-data; boundary=\(boundary)"
    ) async throws -> JSONValue {
        var headers: HTTPFields = [.contentType: contentType]
        if let token { headers[RequestParameters.tokenHeader] = token }
        return try await client.execute(uri: path, method: .post, headers: headers, body: body) {
            try JSONParser.parse(String(buffer: $0.body))
        }
    }

    static func fail(_ text: String) -> JSONValue { AccountTests.fail(text) }

    /// The bridge's router over the test Redis with `settings`, and an account on it.
    static func withBridge(
        settings: BridgeSettings, _ setup: TestingSetup = .router, _ body: @escaping @Sendable (any TestClientProtocol, Account) async throws -> Void
    ) async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis, settings: settings).test(setup) { client in
            try await body(client, try await UserTests.register(client))
        }
    }

    static func bytes(_ count: Int, seed: UInt8 = 7) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) } }

    /// Uploads `content` as `filename` into `Diy/{folder}`; the answered URL.
    static func stored(_ client: some TestClientProtocol, folder: String, _ filename: String, _ content: [UInt8], by account: Account) async throws -> String {
        try url(of: try await upload(
            client, "/api/chat/uploadStreamSingleToServerDiy/\(folder)", multipart(field: "file", filename: filename, content: content), token: account.token
        ))
    }

    static func url(of answer: JSONValue) throws -> String {
        try #require(answer.objectValue?["data"]?.objectValue?["url"]?.stringValue)
    }

    // MARK: Uploads

    @Test("uploadStreamSingleToServerDiy stores the file under Diy/{diydir}/{day} and serves it back")
    func diyUpload() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await FileTests.withBridge(settings: fixture.settings, .router) { client, me in
            let content = Self.bytes(200_000)
            let body = Self.multipart(field: "file", filename: "照片.JPG", contentType: "image/jpeg", content: content, extra: [("note", "x")])
            let answer = try await Self.upload(client, "/api/chat/uploadStreamSingleToServerDiy/chat_img-1", body, token: me.token)
            let url = try Self.url(of: answer)
            #expect(answer.objectValue?["msg"] == "ok")
            #expect(url.wholeMatch(of: /\/public\/uploads\/Diy\/chat_img-1\/\d{8}\/\d{13}_\d{8}\.jpg/) != nil)
            #expect(url.contains("/\(UploadNames.day())/"))
            #expect(try fixture.file(url) == content)
            #expect(fixture.files().count == 1)

            try await client.execute(uri: url, method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "image/jpeg")
                #expect(response.headers[.acceptRanges] == "bytes")
                #expect(Array(buffer: response.body) == content)
            }
        }
    }

    @Test("the token may come in the query; without one the upload is refused and nothing is stored")
    func tokenInQuery() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await FileTests.withBridge(settings: fixture.settings, .router) { client, me in
            let body = Self.multipart(field: "file", filename: "a.png", content: Self.bytes(10))
            let refused = try await Self.upload(client, "/api/chat/uploadStreamSingleToServerDiy/x", body, token: nil)
            #expect(refused == Self.fail(ChatAuthMiddleware.noToken))
            #expect(fixture.files().isEmpty)
            let answer = try await Self.upload(client, "/api/chat/uploadStreamSingleToServerDiy/x?token=\(me.token)", body, token: nil)
            #expect(try Self.url(of: answer).hasSuffix(".png"))
        }
    }

    @Test("visitors may upload (docs/api.md's whitelist), with a visitor token")
    func visitorUpload() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await FileTests.withBridge(settings: fixture.settings) { client, _ in
            let visitor = try await VisitorTests.signed(client, "/api/visitorRegister", device: VisitorTests.deviceID())
            let token = try #require(VisitorTests.data(visitor)?["token"]?.stringValue)
            let body = Self.multipart(field: "img", filename: "a.jpg", content: Self.bytes(100))
            let answer = try await Self.upload(client, "/api/chat/uploadAliyun", body, token: token)
            #expect(answer.objectValue?["msg"] == "ok")
            #expect(fixture.files().count == 1)
        }
    }

    @Test("uploadAliyun answers [{url, path, image_class_id, create_time}] with a URL of this bridge")
    func aliyunUpload() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await FileTests.withBridge(settings: fixture.settings, .router) { client, me in
            let content = Self.bytes(5000)
            let answer = try await Self.upload(
                client, "/api/chat/uploadAliyun?imageClassId=7", Self.multipart(field: "img", filename: "blob", contentType: "image/webp", content: content),
                token: me.token
            )
            let items = try #require(answer.objectValue?["data"]?.arrayItems)
            let item = try #require(items.first?.objectValue)
            #expect(items.count == 1 && Array(item.keys) == ["url", "path", "image_class_id", "create_time"])
            let path = try #require(item["path"]?.stringValue)
            #expect(path.wholeMatch(of: /images\/\d{8}\/\d{13}_[0-9a-f]{12}\.webp/) != nil)
            // No --public-base-url: http:// and the Host the client used.
            let url = try #require(item["url"]?.stringValue)
            #expect(url.hasPrefix("http://") && url.hasSuffix("/public/uploads/" + path))
            #expect(item["image_class_id"] == 7)
            let now = Int64(Date().timeIntervalSince1970)
            #expect(try #require(item["create_time"]?.integerValue) >= now - 5)
            #expect(try fixture.file("/public/uploads/" + path) == content)

            let wrongField = try await Self.upload(client, "/api/chat/uploadAliyun", Self.multipart(field: "file", filename: "a.jpg", content: content), token: me.token)
            #expect(wrongField == Self.fail("上传失败: 请选择要上传的文件（字段img）"))
            let notANumber = try await Self.upload(
                client, "/api/chat/uploadAliyun?imageClassId=abc", Self.multipart(field: "img", filename: "a.jpg", content: content), token: me.token
            )
            #expect(notANumber.objectValue?["data"]?.arrayItems?.first?.objectValue?["image_class_id"] == 0)
        }
        var configured = fixture.settings
        configured.files.publicBaseURL = "https://cdn.example.com"
        try await FileTests.withBridge(settings: configured) { client, me in
            let answer = try await Self.upload(client, "/api/chat/uploadAliyun", Self.multipart(field: "img", filename: "a.gif", content: [1]), token: me.token)
            let url = try #require(answer.objectValue?["data"]?.arrayItems?.first?.objectValue?["url"]?.stringValue)
            #expect(url.hasPrefix("https://cdn.example.com/public/uploads/images/"))
        }
    }

    @Test("refused uploads: the Chinese reason, and nothing on disk")
    func refusals() async throws {
        let fixture = try Fixture(maxBytes: 10_000)
        defer { fixture.remove() }
        try await FileTests.withBridge(settings: fixture.settings, .router) { client, me in
            let diy = "/api/chat/uploadStreamSingleToServerDiy/ok"
            let cases: [(String, ByteBuffer, String, String)] = [
                (diy, Self.multipart(field: "file", filename: "big.mp4", content: Self.bytes(10_001)), "multipart/form-data; boundary=\(Self.boundary)",
                 "文件大小不能超过10000字节"),
                (diy, Self.multipart(field: "file", filename: "huge.mp4", content: Self.bytes(200_000)), "multipart/form-data; boundary=\(Self.boundary)",
                 "文件大小不能超过10000字节"),
                (diy, Self.multipart(field: "file", filename: "shell.php", content: Self.bytes(10)), "multipart/form-data; boundary=\(Self.boundary)",
                 "不支持上传php类型的文件"),
                (diy, Self.multipart(field: "file", filename: "page.html", contentType: "image/png", content: Self.bytes(10)),
                 "multipart/form-data; boundary=\(Self.boundary)", "不支持上传html类型的文件"),
                (diy, Self.multipart(field: "file", filename: "noext", content: Self.bytes(10)), "multipart/form-data; boundary=\(Self.boundary)",
                 "不支持上传该类型的文件"),
                (diy, Self.multipart(field: "file", filename: nil, content: Self.bytes(10)), "multipart/form-data; boundary=\(Self.boundary)",
                 "请选择要上传的文件（字段file）"),
                (diy, ByteBuffer(string: #"{"file":"x"}"#), "application/json", "请使用multipart/form-data格式上传文件"),
                (diy, ByteBuffer(string: "--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\ncut off"),
                 "multipart/form-data; boundary=\(Self.boundary)", "上传数据格式错误"),
                ("/api/chat/uploadStreamSingleToServerDiy/a.b", Self.multipart(field: "file", filename: "a.jpg", content: [1]),
                 "multipart/form-data; boundary=\(Self.boundary)", "文件夹名称只能包含字母、数字、_和-（1-64个字符）"),
                ("/api/chat/uploadStreamSingleToServerDiy/%2e%2e", Self.multipart(field: "file", filename: "a.jpg", content: [1]),
                 "multipart/form-data; boundary=\(Self.boundary)", "文件夹名称只能包含字母、数字、_和-（1-64个字符）"),
                ("/api/chat/uploadAliyun", Self.multipart(field: "img", filename: "../../x.exe", content: [1]),
                 "multipart/form-data; boundary=\(Self.boundary)", "上传失败: 不支持上传exe类型的文件"),
            ]
            for (path, body, contentType, text) in cases {
                let answer = try await Self.upload(client, path, body, token: me.token, contentType: contentType)
                #expect(answer == Self.fail(text), "\(path) \(text)")
            }
            // Exactly at the limit is fine.
            let atLimit = try await Self.upload(client, diy, Self.multipart(field: "file", filename: "a.mp4", content: Self.bytes(10_000)), token: me.token)
            #expect(try fixture.file(try Self.url(of: atLimit)).count == 10_000)
            #expect(fixture.files().count == 1)
        }
    }

    @Test("an upload cut off by the client leaves nothing on disk, not even a temporary file")
    func interruptedUpload() async throws {
        let fixture = try Fixture(maxBytes: 10 << 20)
        defer { fixture.remove() }
        try await FileTests.withBridge(settings: fixture.settings, .live) { client, me in
            let port = try #require(client.port)
            let full = Self.multipart(field: "file", filename: "v.mp4", content: Self.bytes(2 << 20))
            var head = "POST /api/chat/uploadStreamSingleToServerDiy/cut HTTP/1.1\r\nHost: 127.0.0.1\r\ntoken: \(me.token)\r\n"
            head += "Content-Type: multipart/form-data; boundary=\(Self.boundary)\r\nContent-Length: \(full.readableBytes)\r\n\r\n"
            let socket = try RawHTTPSocket(port: port)
            try await socket.send(Array(head.utf8) + Array(buffer: full).prefix(1 << 20))
            // Let the bridge write what it got, then hang up in the middle of the file.
            try await Task.sleep(for: .milliseconds(300))
            socket.close()
            try await Task.sleep(for: .milliseconds(500))
            #expect(fixture.files().isEmpty)

            // The bridge still takes whole uploads afterwards.
            let whole = try await Self.upload(client, "/api/chat/uploadStreamSingleToServerDiy/cut", full, token: me.token)
            #expect(try fixture.file(try Self.url(of: whole)).count == 2 << 20)
        }
    }

    @Test("a 32 MB upload streams through a real bridge process: its peak memory grows by far less than the file")
    func streamingMemory() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let size = 32 << 20
        let bridge = try await BridgeProcess(
            redisURL: try TestEnvironment.redisURL(), settings: ["UPLOAD_DIR": fixture.folder.path, "UPLOAD_MAX_BYTES": String(size)]
        )
        let registered = try bridge.post("/api/regChat", ["username": AccountTests.name(), "password": "secret1"])
        let token = try #require((registered.body["data"] as? [String: Any])?["token"] as? String)
        let peakBefore = try Self.peakMemory(of: bridge.pid)

        let head = Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.mp4\"\r\n\r\n".utf8)
        let tail = Array("\r\n--\(Self.boundary)--\r\n".utf8)
        var request = "POST /api/chat/uploadStreamSingleToServerDiy/big HTTP/1.1\r\nHost: 127.0.0.1\r\ntoken: \(token)\r\nConnection: close\r\n"
        request += "Content-Type: multipart/form-data; boundary=\(Self.boundary)\r\nContent-Length: \(head.count + size + tail.count)\r\n\r\n"
        let socket = try RawHTTPSocket(port: bridge.port)
        defer { socket.close() }
        try await socket.send(Array(request.utf8) + head)
        let megabyte = Self.bytes(1 << 20)
        for _ in 0..<(size >> 20) { try await socket.send(megabyte) }
        try await socket.send(tail)
        let answer = try await socket.readAll()
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(300))")
        let url = try #require(answer.firstMatch(of: /\/public\/uploads\/Diy\/big\/\d{8}\/\d{13}_\d{8}\.mp4/)).output
        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.folder.path + String(url.dropFirst("/public/uploads".count)))
        #expect(attributes[.size] as? Int == size)
        let growth = try Self.peakMemory(of: bridge.pid) - peakBefore
        #expect(growth < 16 << 20, "peak memory grew by \(growth >> 20) MB for a \(size >> 20) MB upload")
    }

    /// The peak resident size of a process (VmHWM), in bytes.
    static func peakMemory(of pid: pid_t) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
        let kilobytes = try #require(Int(line.dropFirst("VmHWM:".count).trimmingCharacters(in: .whitespaces).dropLast(3).trimmingCharacters(in: .whitespaces)))
        return kilobytes * 1024
    }

    // MARK: Serving

    @Test("serving: ranges for seeking (206, 416), HEAD, content types")
    func ranges() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await FileTests.withBridge(settings: fixture.settings, .router) { client, me in
            let content = Self.bytes(1000)
            let url = try Self.url(of: try await Self.upload(
                client, "/api/chat/uploadStreamSingleToServerDiy/video", Self.multipart(field: "file", filename: "m.mp4", content: content), token: me.token
            ))
            let cases: [(String?, HTTPResponse.Status, String?, Range<Int>)] = [
                ("bytes=0-99", .partialContent, "bytes 0-99/1000", 0..<100),
                ("bytes=900-", .partialContent, "bytes 900-999/1000", 900..<1000),
                ("bytes=-10", .partialContent, "bytes 990-999/1000", 990..<1000),
                ("bytes=990-5000", .partialContent, "bytes 990-999/1000", 990..<1000),
                ("bytes=1000-", .rangeNotSatisfiable, "bytes */1000", 0..<0),
                ("bytes=0-1,5-9", .ok, nil, 0..<1000),
                (nil, .ok, nil, 0..<1000),
            ]
            for (range, status, contentRange, slice) in cases {
                var headers: HTTPFields = [:]
                if let range { headers[.range] = range }
                try await client.execute(uri: url, method: .get, headers: headers) { response in
                    #expect(response.status == status, "\(range ?? "no range")")
                    #expect(response.headers[.contentRange] == contentRange)
                    #expect(response.headers[.contentType] == "video/mp4")
                    #expect(response.headers[.contentLength] == String(slice.count))
                    #expect(Array(buffer: response.body) == Array(content[slice]))
                }
            }
            try await client.execute(uri: url, method: .head) { response in
                #expect(response.status == .ok && response.headers[.contentLength] == "1000" && response.body.readableBytes == 0)
            }
        }
    }

    @Test("serving never leaves the upload folder: dot-dot, encoded, hidden, symlinked, folders")
    func traversal() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let outside = fixture.folder.deletingLastPathComponent().appendingPathComponent("outside-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outside) }
        try Data("top secret".utf8).write(to: outside.appendingPathComponent("passwd"))
        try Data("hidden".utf8).write(to: fixture.folder.appendingPathComponent(".secret"))
        try FileManager.default.createSymbolicLink(at: fixture.folder.appendingPathComponent("link.txt"), withDestinationURL: outside.appendingPathComponent("passwd"))
        try FileManager.default.createSymbolicLink(at: fixture.folder.appendingPathComponent("linked"), withDestinationURL: outside)
        try FileManager.default.createDirectory(at: fixture.folder.appendingPathComponent("folder"), withIntermediateDirectories: true)
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        try await TestBridge.app(redis: redis, settings: fixture.settings).test(.live) { client in
            let port = try #require(client.port)
            for path in Self.traversalPaths {
                // Over a raw socket: no client library normalizes the path first.
                let socket = try RawHTTPSocket(port: port)
                defer { socket.close() }
                try await socket.send(Array("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
                let answer = try await socket.readAll()
                #expect(answer.hasPrefix("HTTP/1.1 404"), "\(path): \(answer.prefix(40))")
                #expect(!answer.contains("top secret") && !answer.contains("hidden"))
            }
        }
    }

    static let traversalPaths = [
        "/public/uploads/../../../../etc/passwd",
        "/public/uploads/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/public/uploads/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/public/uploads//etc/passwd",
        "/public/uploads/.secret",
        "/public/uploads/link.txt",
        "/public/uploads/linked/passwd",
        "/public/uploads/folder",
        "/public/uploads/missing.jpg",
    ]

    @Test("what is not on the allow-list can be configured, and the limit too")
    func options() throws {
        let settings = try BridgeOptions.parse([
            "--upload-dir", "/srv/up", "--upload-max-bytes", "2048", "--upload-extensions", "JPG, .png,pdf",
            "--public-base-url", "https://chat.example.com/", "--ffmpeg", "/opt/ffmpeg", "--screenshot-timeout-ms", "500",
            "--screenshot-concurrency", "3",
        ]).resolve(environment: [:])
        #expect(settings.files.uploadFolder == "/srv/up" && settings.files.maxUploadBytes == 2048)
        #expect(settings.files.allowedExtensions == ["jpg", "png", "pdf"])
        #expect(settings.files.publicBaseURL == "https://chat.example.com" && settings.files.ffmpeg == "/opt/ffmpeg")
        #expect(settings.files.screenshotTimeout == .milliseconds(500) && settings.files.screenshotConcurrency == 3)
        let fromEnvironment = try BridgeOptions.parse([]).resolve(environment: ["UPLOAD_DIR": "/e", "UPLOAD_MAX_BYTES": "10"])
        #expect(fromEnvironment.files.uploadFolder == "/e" && fromEnvironment.files.maxUploadBytes == 10)
        #expect(fromEnvironment.files.allowedExtensions == FilePolicy.defaultExtensions)
        for bad in [["--upload-max-bytes", "0"], ["--upload-extensions", "a/b"], ["--public-base-url", "ftp://x"], ["--screenshot-timeout-ms", "1"], ["--screenshot-concurrency", "0"]] {
            #expect(throws: (any Error).self) { _ = try BridgeOptions.parse(bad).resolve(environment: [:]) }
        }
    }
}

extension JSONValue {
    var arrayItems: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}

/// A blocking TCP connection to the bridge under test, for what an HTTP client library
/// would not send: raw paths, and bodies cut off half way. The blocking calls run on a
/// Dispatch thread: blocking the few threads of Swift's cooperative pool would starve
/// the server under test, whose handlers run there.
final class RawHTTPSocket: @unchecked Sendable {
    private let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestEnvironment.Missing(description: "connect to 127.0.0.1:\(port) failed") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ bytes: [UInt8]) async throws {
        try await offPool { try self.sendBlocking(bytes) }
    }

    func readAll() async throws -> String {
        try await offPool { try self.readAllBlocking() }
    }

    private func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    private func sendBlocking(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw TestEnvironment.Missing(description: "send failed") }
            offset += sent
        }
    }

    /// Everything until the peer closes (or 10 s pass), as text.
    private func readAllBlocking() throws -> String {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += chunk[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    func close() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        Glibc.close(descriptor)
    }
}
