import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Model
import NIOCore
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// docs/api.md `getVideoScreenshot` with a real ffmpeg and a real video uploaded first.
@Suite("Video screenshots", .offCooperativePool)
struct VideoScreenshotTests {
    typealias Fixture = FileTests.Fixture

    static let ffmpeg = "/usr/bin/ffmpeg"

    /// A 2-second 320×240 test pattern video (H.264 in MP4), made by ffmpeg.
    static func makeVideo() async throws -> [UInt8] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("video-\(UUID().uuidString).mp4").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        // The bridge's own runner: waits without blocking a thread of the shared pool.
        let outcome = try await TimeLimitedProcess(executable: ffmpeg, arguments: [
            "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=10",
            "-pix_fmt", "yuv420p", "-y", path,
        ], timeLimit: .seconds(120)).run()
        #expect(outcome == .exited(0))
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Width and height from a PNG's IHDR chunk.
    static func pngSize(_ bytes: [UInt8]) throws -> (width: Int, height: Int) {
        try #require(bytes.count > 24 && bytes.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        try #require(Array(bytes[12..<16]) == Array("IHDR".utf8))
        let number = { (offset: Int) in bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (number(16), number(20))
    }

    static func call(_ client: some TestClientProtocol, _ body: JSONValue, token: String) async throws -> JSONValue {
        try await AccountTests.call(client, "/api/chat/getVideoScreenshot", body, token: token).body
    }

    static func decodedImage(_ answer: JSONValue, format: String) throws -> [UInt8] {
        let text = try #require(answer.objectValue?["data"]?.objectValue?["base64"]?.stringValue)
        let prefix = "data:image/\(format);base64,"
        try #require(text.hasPrefix(prefix))
        return Array(try #require(Data(base64Encoded: String(text.dropFirst(prefix.count)))))
    }

    @Test("a frame of an uploaded video at the asked width, as base64 and as a stored file; errors of docs/api.md")
    func screenshots() async throws {
        let fixture = try Fixture(maxBytes: 20 << 20) { $0.ffmpeg = Self.ffmpeg }
        defer { fixture.remove() }
        let video = try await Self.makeVideo()
        try await FileTests.withBridge(settings: fixture.settings, .router) { client, me in
            let url = try await FileTests.stored(client, folder: "video", "clip.mp4", video, by: me)

            let answer = try await Self.call(client, ["videoUrl": .string(url), "time": 500, "width": 160], token: me.token)
            let data = try #require(answer.objectValue?["data"]?.objectValue)
            #expect(answer.objectValue?["msg"] == "ok")
            #expect(Array(data.keys) == ["base64", "url", "format", "time", "width"])
            #expect(data["format"] == "png" && data["time"] == 500 && data["width"] == 160)
            let png = try Self.decodedImage(answer, format: "png")
            let size = try Self.pngSize(png)
            #expect(size.width == 160 && size.height == 120)
            let stored = try #require(data["url"]?.stringValue)
            #expect(stored.wholeMatch(of: /\/public\/uploads\/Diy\/VideoScreenshot\/screenshot_\d{13}_[0-9a-z]{6}\.png/) != nil)
            #expect(try fixture.file(stored) == png)
            try await client.execute(uri: stored, method: .get) { response in
                #expect(response.status == .ok && response.headers[.contentType] == "image/png")
            }

            // Absolute URLs of this bridge, jpg, no width: the video's own size.
            let jpg = try await Self.call(client, ["videoUrl": .string("http://files.test:7001" + url), "time": "1500", "format": "jpg"], token: me.token)
            #expect(jpg.objectValue?["data"]?.objectValue?["width"] == "原始宽度")
            #expect(try Self.decodedImage(jpg, format: "jpg").prefix(2) == [0xFF, 0xD8])
            let original = try await Self.call(client, ["videoUrl": .string(url), "time": 0], token: me.token)
            let originalSize = try Self.pngSize(try Self.decodedImage(original, format: "png"))
            #expect(originalSize.width == 320 && originalSize.height == 240)

            let image = try await FileTests.stored(client, folder: "img", "a.png", png, by: me)
            let filesBefore = fixture.files()
            let refusals: [(JSONValue, String)] = [
                (["time": 1], "视频地址不能为空"),
                (["videoUrl": "", "time": 1], "视频地址不能为空"),
                (["videoUrl": .string(url)], "时间点参数无效"),
                (["videoUrl": .string(url), "time": -1], "时间点参数无效"),
                (["videoUrl": .string(url), "time": "soon"], "时间点参数无效"),
                (["videoUrl": .string(url), "time": 1, "width": 3841], "图片宽度应在1-3840之间"),
                (["videoUrl": .string(url), "time": 1, "width": -5], "图片宽度应在1-3840之间"),
                (["videoUrl": .string(url), "time": 1, "width": "wide"], "图片宽度应在1-3840之间"),
                (["videoUrl": .string(url), "time": 1, "format": "gif"], "参数format的值只能是png、jpg"),
                (["videoUrl": "https://evil.example.com/v.mp4", "time": 1], "截图处理失败: 只能截取本服务器上传的视频"),
                (["videoUrl": "/public/uploads/../../../etc/passwd", "time": 1], "截图处理失败: 只能截取本服务器上传的视频"),
                (["videoUrl": "file:///etc/passwd", "time": 1], "截图处理失败: 只能截取本服务器上传的视频"),
                (["videoUrl": .string(image), "time": 1], "截图处理失败: 只能截取本服务器上传的视频"),
                (["videoUrl": "/public/uploads/Diy/video/20200101/1_2.mp4", "time": 1], "截图处理失败: 视频文件不存在"),
                (["videoUrl": .string(url), "time": 10_000], "截图生成失败"),
            ]
            for (body, text) in refusals {
                #expect(try await Self.call(client, body, token: me.token) == FileTests.fail(text), "\(body)")
            }
            #expect(fixture.files() == filesBefore)  // no screenshot, no temporary file
        }
    }

    @Test("ffmpeg is killed at the time limit (its whole process group), and nothing is left behind")
    func timeLimit() async throws {
        // A stand-in ffmpeg that records its pid and hangs.
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("slow-ffmpeg-\(UUID().uuidString)")
        let pidFile = script.path + ".pid"
        try Data("#!/bin/sh\necho $$ > '\(pidFile)'\nsleep 30 &\nwait\n".utf8).write(to: script)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        defer {
            try? FileManager.default.removeItem(at: script)
            try? FileManager.default.removeItem(atPath: pidFile)
        }
        let fixture = try Fixture {
            $0.ffmpeg = script.path
            $0.screenshotTimeout = .milliseconds(400)
        }
        defer { fixture.remove() }
        try await FileTests.withBridge(settings: fixture.settings, .router) { client, me in
            let url = try await FileTests.stored(client, folder: "v", "a.mp4", [0, 1, 2], by: me)
            let clock = ContinuousClock()
            let start = clock.now
            let answer = try await Self.call(client, ["videoUrl": .string(url), "time": 1], token: me.token)
            let took = clock.now - start
            #expect(answer == FileTests.fail("截图处理失败: 截图超时"))
            #expect(took >= .milliseconds(400) && took < .seconds(5))
            let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(kill(pid, 0) == -1)  // gone, and reaped
            // The shell's `sleep` child was in the same process group: gone too.
            try await eventually(within: 2) { !(try await Self.processes().contains { $0.contains("sleep 30") && $0.contains(String(pid)) }) }
            #expect(fixture.files() == ["Diy/v/\(UploadNames.day())/" + url.split(separator: "/").last!])
        }
    }

    @Test("with every ffmpeg slot taken, a screenshot is refused at once instead of queued")
    func concurrencyLimit() async throws {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("slow-ffmpeg-\(UUID().uuidString)")
        try Data("#!/bin/sh\nexec sleep 30\n".utf8).write(to: script)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        defer { try? FileManager.default.removeItem(at: script) }
        let fixture = try Fixture {
            $0.ffmpeg = script.path
            $0.screenshotTimeout = .seconds(2)
            $0.screenshotConcurrency = 1
        }
        defer { fixture.remove() }
        try await FileTests.withBridge(settings: fixture.settings) { client, me in
            let url = try await FileTests.stored(client, folder: "v", "a.mp4", [0], by: me)
            async let first = Self.call(client, ["videoUrl": .string(url), "time": 1], token: me.token)
            // The second comes while the first holds the only slot.
            try await Task.sleep(for: .milliseconds(500))
            let clock = ContinuousClock()
            let start = clock.now
            let second = try await Self.call(client, ["videoUrl": .string(url), "time": 1], token: me.token)
            #expect(second == FileTests.fail("截图处理失败: 服务繁忙，请稍后再试"))
            #expect(clock.now - start < .seconds(1))
            #expect(try await first == FileTests.fail("截图处理失败: 截图超时"))
            // The slot is free again.
            #expect(try await Self.call(client, ["videoUrl": .string(url), "time": 1], token: me.token) == FileTests.fail("截图处理失败: 截图超时"))
        }
    }

    @Test("a missing ffmpeg is a clear failure")
    func missingFFmpeg() async throws {
        let fixture = try Fixture { $0.ffmpeg = "/nonexistent/ffmpeg" }
        defer { fixture.remove() }
        try await FileTests.withBridge(settings: fixture.settings, .router) { client, me in
            let url = try await FileTests.stored(client, folder: "v", "a.mp4", [0], by: me)
            #expect(try await Self.call(client, ["videoUrl": .string(url), "time": 1], token: me.token) == FileTests.fail("截图处理失败: 无法启动ffmpeg"))
        }
    }

    /// `ps` lines: pid, parent pid, process group and command.
    static func processes() async throws -> [String] {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("ps-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        _ = try await TimeLimitedProcess(executable: "/bin/ps", arguments: ["-eo", "pid,ppid,pgid,args"], timeLimit: .seconds(10), output: output).run()
        return try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
    }
}
