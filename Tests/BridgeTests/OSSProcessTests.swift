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

/// docs/api.md *x-oss-process*: covers of stored videos and resized stored images, made by
/// a real ffmpeg once and then served from the cache; the refusals.
@Suite("x-oss-process: video covers and image resizing", .offCooperativePool)
struct OSSProcessTests {
    typealias Fixture = FileTests.Fixture

    /// A stand-in ffmpeg that counts its runs (one line each) and runs the real one.
    struct CountingFFmpeg {
        let script: String
        let runs: String

        init() throws {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("counting-ffmpeg-\(UUID().uuidString)").path
            script = base
            runs = base + ".runs"
            try Data("#!/bin/sh\necho run >> '\(runs)'\nexec \(VideoScreenshotTests.ffmpeg) \"$@\"\n".utf8).write(to: URL(fileURLWithPath: script))
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        }

        var count: Int {
            ((try? String(contentsOfFile: runs, encoding: .utf8)) ?? "").split(separator: "\n").count
        }

        func remove() {
            try? FileManager.default.removeItem(atPath: script)
            try? FileManager.default.removeItem(atPath: runs)
        }
    }

    struct Answer {
        let status: HTTPResponse.Status
        let contentType: String?
        let bytes: [UInt8]
    }

    static func get(_ client: some TestClientProtocol, _ uri: String, headers: HTTPFields = [:]) async throws -> Answer {
        try await client.execute(uri: uri, method: .get, headers: headers) { response in
            Answer(status: response.status, contentType: response.headers[.contentType], bytes: Array(buffer: response.body))
        }
    }

    /// `[width, height]` of a PNG.
    static func size(_ png: [UInt8]) throws -> [Int] {
        let size = try VideoScreenshotTests.pngSize(png)
        return [size.width, size.height]
    }

    static func process(_ url: String, _ value: String) -> String { url + "?x-oss-process=" + value }

    /// The files of the cache folder.
    static func cached(_ fixture: Fixture) -> [String] {
        fixture.files().filter { $0.hasPrefix(".oss-process/") }
    }

    static func failure(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        JSONSerializer.write(FileTests.fail(text), into: &bytes)
        return bytes
    }

    /// The bridge's router with a counting ffmpeg and an account that stored the test video
    /// (`VideoScreenshotTests.makeVideo`, 320×240, 2 s) at `url`.
    static func withStoredVideo(
        configure: @escaping (inout FilePolicy) -> Void = { _ in },
        _ body: @escaping @Sendable (_ client: any TestClientProtocol, _ me: FileTests.Account, _ url: String, _ video: [UInt8], _ fixture: Fixture, _ ffmpeg: CountingFFmpeg) async throws -> Void
    ) async throws {
        let ffmpeg = try CountingFFmpeg()
        defer { ffmpeg.remove() }
        let fixture = try Fixture(maxBytes: 20 << 20) {
            $0.ffmpeg = ffmpeg.script
            configure(&$0)
        }
        defer { fixture.remove() }
        let video = try await VideoScreenshotTests.makeVideo()
        try await FileTests.withBridge(settings: fixture.settings, .router) { client, me in
            let url = try await FileTests.stored(client, folder: "video", "clip.mp4", video, by: me)
            try await body(client, me, url, video, fixture, ffmpeg)
        }
    }

    @Test("a cover of the asked size, PNG or JPEG (the default), made once by ffmpeg and then served from the cache; the file itself unchanged", .timeLimit(.minutes(2)))
    func covers() async throws {
        try await Self.withStoredVideo { client, me, url, video, fixture, ffmpeg in

            // What the deployed client asks for.
            let cover = try await Self.get(client, Self.process(url, "video/snapshot,t_20,m_fast,w_260,f_png"))
            #expect(cover.status == .ok && cover.contentType == "image/png")
            let size = try VideoScreenshotTests.pngSize(cover.bytes)
            #expect(size.width == 260 && size.height == 195)
            #expect(ffmpeg.count == 1)
            let entries = Self.cached(fixture)
            #expect(entries.count == 1 && entries.first?.wholeMatch(of: /\.oss-process\/[0-9a-f]{32}\.png/) != nil, "\(entries)")
            #expect(try Array(Data(contentsOf: fixture.folder.appendingPathComponent(entries[0]))) == cover.bytes)

            // Again, and with the parameters in another order: the cached image, no ffmpeg.
            #expect(try await Self.get(client, Self.process(url, "video/snapshot,t_20,m_fast,w_260,f_png")).bytes == cover.bytes)
            #expect(try await Self.get(client, Self.process(url, "video/snapshot,f_png,w_260,m_fast,t_20")).bytes == cover.bytes)
            #expect(ffmpeg.count == 1 && Self.cached(fixture) == entries)
            try await client.execute(uri: Self.process(url, "video/snapshot,t_20,m_fast,w_260,f_png"), method: .head) { response in
                #expect(response.status == .ok && response.headers[.contentLength] == String(cover.bytes.count))
                #expect(response.headers[.contentType] == "image/png")
            }

            // JPEG by default; the height alone; neither (the video's own size).
            let jpeg = try await Self.get(client, Self.process(url, "video/snapshot,t_1000"))
            #expect(jpeg.status == .ok && jpeg.contentType == "image/jpeg" && jpeg.bytes.prefix(2) == [0xFF, 0xD8])
            let byHeight = try await Self.get(client, Self.process(url, "video/snapshot,t_500,h_120,f_png"))
            #expect(try Self.size(byHeight.bytes) == [160, 120])
            let whole = try await Self.get(client, Self.process(url, "video/snapshot,w_0,h_0,f_png"))
            #expect(try Self.size(whole.bytes) == [320, 240])
            let stretched = try await Self.get(client, Self.process(url, "video/snapshot,w_100,h_100,f_png"))
            #expect(try Self.size(stretched.bytes) == [100, 100])
            #expect(ffmpeg.count == 5 && Self.cached(fixture).count == 5)

            // m_fast: the keyframe at or before t. The test video's only keyframe is its
            // first frame (x264's default interval is longer than the video); the frame at
            // exactly 1.5 s is another. `t_0` is `w_0,h_0`'s image (the defaults): cached.
            #expect(try await Self.get(client, Self.process(url, "video/snapshot,t_0,f_png")).bytes == whole.bytes)
            let fast = try await Self.get(client, Self.process(url, "video/snapshot,t_1500,m_fast,f_png"))
            let exact = try await Self.get(client, Self.process(url, "video/snapshot,t_1500,f_png"))
            #expect(fast.status == .ok && fast.bytes == whole.bytes)
            #expect(exact.status == .ok && exact.bytes != whole.bytes && exact.bytes.count > 1000)
            #expect(ffmpeg.count == 7)

            // Without the query: the MP4, ranges as before.
            let file = try await Self.get(client, url)
            #expect(file.status == .ok && file.contentType == "video/mp4" && file.bytes == video)
            let part = try await Self.get(client, url, headers: [.range: "bytes=0-9"])
            #expect(part.status == .partialContent && part.bytes == Array(video[0..<10]))
            #expect(ffmpeg.count == 7)
        }
    }

    @Test("refusals: a snapshot of an image, a resize of a video, bad or unknown parameters, a time past the end; no file, 404", .timeLimit(.minutes(2)))
    func refusals() async throws {
        try await Self.withStoredVideo { client, me, url, video, fixture, ffmpeg in
            let image = try await FileTests.stored(client, folder: "img", "a.png", try await Self.get(client, Self.process(url, "video/snapshot,f_png")).bytes, by: me)
            let audio = try await FileTests.stored(client, folder: "voice", "a.mp3", [1, 2, 3], by: me)
            let runs = ffmpeg.count
            let cases: [(String, String, String)] = [
                (image, "video/snapshot,t_20,f_png", "视频截图仅支持视频文件"),
                (audio, "video/snapshot", "视频截图仅支持视频文件"),
                (url, "image/resize,w_100", "图片缩放仅支持jpg、jpeg、png、bmp、webp图片"),
                (audio, "image/resize,w_100", "图片缩放仅支持jpg、jpeg、png、bmp、webp图片"),
                (url, "video/snapshot,w_3841", "参数w应在0-3840之间"),
                (url, "video/snapshot,h_-1", "参数h应在0-3840之间"),
                (url, "video/snapshot,t_-1", "参数t应为不小于0的毫秒数"),
                (url, "video/snapshot,t_soon", "参数t应为不小于0的毫秒数"),
                (url, "video/snapshot,m_slow", "参数m的值只能是fast"),
                (url, "video/snapshot,f_gif", "参数f的值只能是jpg、png"),
                (url, "video/snapshot,ar_auto", "不支持的处理参数ar"),
                (url, "video/snapshot,w_10,w_20", "处理参数w重复"),
                (url, "video/snapshot,w10", "处理参数格式错误: w10"),
                (url, "video/snapshot,t_20/format,png", "处理参数格式错误: png"),
                (url, "video/snapshots,t_20", "不支持的处理参数，仅支持video/snapshot和image/resize"),
                (url, "", "不支持的处理参数，仅支持video/snapshot和image/resize"),
                (image, "image/crop,w_10", "不支持的处理参数，仅支持video/snapshot和image/resize"),
                (image, "image/resize", "参数w和h不能都为空"),
                (image, "image/resize,w_0", "参数w应在1-4096之间"),
                (image, "image/resize,h_4097", "参数h应在1-4096之间"),
                (image, "image/resize,w_10,m_fill", "参数m为fill时须同时指定w和h"),
                (image, "image/resize,w_10,m_crop", "参数m的值只能是lfit、mfit、fill、pad、fixed"),
                (image, "image/resize,w_10,limit_2", "参数limit的值只能是0、1"),
                (image, "image/resize,w_10,p_50", "不支持的处理参数p"),
            ]
            for (file, value, text) in cases {
                let answer = try await Self.get(client, Self.process(file, value))
                #expect(answer.status == .badRequest && answer.bytes == Self.failure(text), "\(value): \(String(decoding: answer.bytes, as: UTF8.self))")
            }
            #expect(ffmpeg.count == runs)  // refused before ffmpeg

            // ffmpeg runs and writes nothing: past the end of the 2-second video.
            let late = try await Self.get(client, Self.process(url, "video/snapshot,t_10000"))
            #expect(late.status == .badRequest && late.bytes == Self.failure("截图生成失败"))
            #expect(ffmpeg.count == runs + 1)
            #expect(!Self.cached(fixture).contains { $0.contains(".part") })

            #expect(try await Self.get(client, Self.process("/public/uploads/Diy/video/20200101/1_2.mp4", "video/snapshot")).status == .notFound)
            #expect(try await Self.get(client, Self.process("/public/uploads/.oss-process/" + "0", "video/snapshot")).status == .notFound)
            // The cache is never served by name.
            let entry = try #require(Self.cached(fixture).first)
            #expect(try await Self.get(client, "/public/uploads/" + entry).status == .notFound)
        }
    }

    @Test("image/resize: lfit (default), mfit, fill, pad, fixed, limit; the image's own format; cached", .timeLimit(.minutes(2)))
    func resize() async throws {
        try await Self.withStoredVideo { client, me, url, video, fixture, ffmpeg in
            let png = try await Self.get(client, Self.process(url, "video/snapshot,t_500,f_png")).bytes
            let jpg = try await Self.get(client, Self.process(url, "video/snapshot,t_500,f_jpg")).bytes
            let image = try await FileTests.stored(client, folder: "img", "a.png", png, by: me)
            let photo = try await FileTests.stored(client, folder: "img", "b.jpg", jpg, by: me)

            let cases: [(String, Int, Int)] = [
                ("image/resize,w_100", 100, 75),
                ("image/resize,h_60", 80, 60),
                ("image/resize,w_100,h_50", 67, 50),
                ("image/resize,w_100,h_50,m_lfit", 67, 50),
                ("image/resize,w_100,h_50,m_mfit", 100, 75),
                ("image/resize,w_100,h_50,m_fill", 100, 50),
                ("image/resize,w_100,h_50,m_pad", 100, 50),
                ("image/resize,w_100,h_50,m_fixed", 100, 50),
                ("image/resize,w_1000", 320, 240),
                ("image/resize,w_640,limit_0", 640, 480),
                ("image/resize,w_640,h_100,m_fixed", 320, 240),
                ("image/resize,w_640,h_100,m_fixed,limit_0", 640, 100),
            ]
            for (value, width, height) in cases {
                let answer = try await Self.get(client, Self.process(image, value))
                #expect(answer.status == .ok && answer.contentType == "image/png", "\(value)")
                #expect(try Self.size(answer.bytes) == [width, height], "\(value)")
            }
            let runs = ffmpeg.count
            #expect(try Self.size(try await Self.get(client, Self.process(image, "image/resize,w_100,m_lfit,limit_1")).bytes) == [100, 75])
            #expect(ffmpeg.count == runs)  // the defaults written out: the same image

            let thumbnail = try await Self.get(client, Self.process(photo, "image/resize,w_100"))
            #expect(thumbnail.status == .ok && thumbnail.contentType == "image/jpeg" && thumbnail.bytes.prefix(2) == [0xFF, 0xD8])
            #expect(thumbnail.bytes.count < jpg.count)
        }
    }

    @Test("the cache stays within its bound: the least recently made image goes first", .timeLimit(.minutes(2)))
    func bounded() async throws {
        // Room for the newest image only.
        try await Self.withStoredVideo(configure: { $0.processedCacheBytes = 1 }) { client, me, url, video, fixture, ffmpeg in
            let first = try await Self.get(client, Self.process(url, "video/snapshot,w_100,f_png"))
            let entries = Self.cached(fixture)
            #expect(entries.count == 1)
            _ = try await Self.get(client, Self.process(url, "video/snapshot,w_120,f_png"))
            let after = Self.cached(fixture)
            #expect(after.count == 1 && after != entries)
            #expect(try await Self.get(client, Self.process(url, "video/snapshot,w_100,f_png")).bytes == first.bytes)
            #expect(ffmpeg.count == 3 && Self.cached(fixture) == entries)
        }
    }
}
