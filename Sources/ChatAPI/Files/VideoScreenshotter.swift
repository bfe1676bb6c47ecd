import ChatRuntime
import Foundation
import Logging
import Metrics
import NIOCore
import _NIOFileSystem

/// `getVideoScreenshot`'s work: one frame of a video stored in the upload folder, taken
/// by ffmpeg (with a time limit), stored as `Diy/VideoScreenshot/screenshot_….{format}`.
package struct VideoScreenshotter: Sendable {
    enum Format: String, Sendable, CaseIterable {
        case png, jpg

        var codec: String {
            switch self {
            case .png: "png"
            case .jpg: "mjpeg"
            }
        }
    }

    struct Screenshot: Sendable {
        /// Names inside the upload folder.
        let names: [String]
        let bytes: [UInt8]
    }

    /// Why there is no screenshot; `text` is what the client is told.
    enum Failure: Error, Equatable {
        /// Not a video stored by this bridge.
        case notOurVideo
        case videoMissing
        case ffmpegUnavailable
        case timedOut
        case ffmpegFailed(Int32)
        /// ffmpeg succeeded but wrote nothing (e.g. a time past the end).
        case noImage
        case storageFailed
        /// Every ffmpeg slot (`--screenshot-concurrency`) is taken.
        case busy

        var text: String {
            switch self {
            case .noImage: "截图生成失败"
            case .notOurVideo: "截图处理失败: 只能截取本服务器上传的视频"
            case .videoMissing: "截图处理失败: 视频文件不存在"
            case .ffmpegUnavailable: "截图处理失败: 无法启动ffmpeg"
            case .timedOut: "截图处理失败: 截图超时"
            case .ffmpegFailed(let status): "截图处理失败: ffmpeg退出码\(status)"
            case .storageFailed: "截图处理失败: 文件保存失败"
            case .busy: "截图处理失败: 服务繁忙，请稍后再试"
            }
        }
    }

    static let folders = ["Diy", "VideoScreenshot"]
    /// A screenshot larger than this is not read back (a 3840-wide PNG is far below).
    static let maximumImageBytes = 64 << 20

    let folder: UploadFolder
    let policy: FilePolicy
    let logger: Logger
    private let slots: ProcessSlots

    init(folder: UploadFolder, policy: FilePolicy, logger: Logger) {
        self.folder = folder
        self.policy = policy
        self.logger = logger
        slots = ProcessSlots(limit: policy.screenshotConcurrency)
    }

    private static let taken = Counter(label: "chat_video_screenshots_total")
    private static let timeouts = Counter(label: "chat_video_screenshot_timeouts_total")
    private static let busyRefusals = Counter(label: "chat_video_screenshot_busy_total")

    /// The frame at `milliseconds` of the video `videoURL` names, `width` pixels wide
    /// (height in proportion) or as large as the video.
    func screenshot(of videoURL: String, at milliseconds: Int64, width: Int?, format: Format) async throws(Failure) -> Screenshot {
        guard let videoNames = UploadFolder.relativePath(ofURL: videoURL),
              let ext = videoNames.last?.split(separator: ".").last.map({ $0.lowercased() }),
              FilePolicy.videoExtensions.contains(ext)
        else { throw .notOurVideo }
        guard let video = await folder.existingFile(videoNames) else { throw .videoMissing }
        do {
            try await folder.makeFolders(Self.folders)
        } catch {
            throw .storageFailed
        }
        let names = Self.folders + [UploadNames.screenshot(format: format.rawValue)]
        let target = folder.path(of: names)
        // ffmpeg writes under a hidden name (never served), renamed once complete.
        let partial = folder.root + "/" + Self.folders.joined(separator: "/") + "/." + names[names.count - 1] + ".part"
        defer { unlink(partial) }
        let arguments = Self.arguments(input: video.path, output: partial, at: milliseconds, width: width, format: format)
        try await runFFmpeg(arguments, writing: partial, from: video.path)
        let bytes: [UInt8]
        do {
            let buffer = try await ByteBuffer(contentsOf: FilePath(partial), maximumSizeAllowed: .bytes(Int64(Self.maximumImageBytes)))
            bytes = Array(buffer: buffer)
        } catch {
            throw .noImage
        }
        guard !bytes.isEmpty else { throw .noImage }
        guard rename(partial, target) == 0 else { throw .storageFailed }
        Self.taken.increment()
        return Screenshot(names: names, bytes: bytes)
    }

    /// Runs ffmpeg with `arguments` (which write `output`) in one of the slots
    /// (`--screenshot-concurrency`: none free, refused at once) and under the time limit;
    /// what it printed goes to a hidden file beside `output`, removed afterwards. Shared
    /// by `getVideoScreenshot` and the `x-oss-process` images (`OSSProcessor`).
    func runFFmpeg(_ arguments: [String], writing output: String, from input: String) async throws(Failure) {
        guard slots.tryAcquire() else {
            Self.busyRefusals.increment()
            throw .busy
        }
        defer { slots.release() }
        let log = output + ".log"
        defer { unlink(log) }
        let process = TimeLimitedProcess(executable: policy.ffmpeg, arguments: arguments, timeLimit: policy.screenshotTimeout, output: log)
        let outcome: TimeLimitedProcess.Outcome
        do throws(ProcessSpawn.SpawnError) {
            outcome = try await process.run()
        } catch {
            logger.error("ffmpeg could not be started", metadata: ["ffmpeg": "\(policy.ffmpeg)", "errno": "\(error.errno)"])
            throw .ffmpegUnavailable
        }
        switch outcome {
        case .timedOut:
            Self.timeouts.increment()
            logger.warning("ffmpeg killed at the time limit", metadata: ["input": "\(input)", "limit": "\(policy.screenshotTimeout)"])
            throw .timedOut
        case .signalled(let signal):
            logger.warning("ffmpeg died of a signal", metadata: ["signal": "\(signal)", "log": "\(Self.tail(of: log))"])
            throw .ffmpegFailed(128 + signal)
        case .exited(let status) where status != 0:
            logger.warning("ffmpeg failed", metadata: ["status": "\(status)", "input": "\(input)", "log": "\(Self.tail(of: log))"])
            throw .ffmpegFailed(status)
        case .exited:
            break
        }
    }

    /// ffmpeg reads only local files (`-protocol_whitelist file`: a crafted video cannot
    /// make it fetch URLs), seeks before decoding, and writes one frame.
    static func arguments(input: String, output: String, at milliseconds: Int64, width: Int?, format: Format) -> [String] {
        var arguments = [
            "-nostdin", "-hide_banner", "-loglevel", "error", "-protocol_whitelist", "file",
            "-ss", String(format: "%.3f", Double(milliseconds) / 1000), "-i", input, "-frames:v", "1",
        ]
        if let width { arguments += ["-vf", "scale=\(width):-1"] }
        arguments += ["-c:v", format.codec, "-f", "image2", "-y", output]
        return arguments
    }

    /// The last lines ffmpeg printed, for the log.
    private static func tail(of log: String) -> String {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return "" }
        return String(text.suffix(500))
    }
}
