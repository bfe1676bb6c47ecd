#if canImport(Glibc)
import Glibc
#endif
import HTTPTypes
import Metrics

/// Answers `x-oss-process` for a stored file (docs/api.md, *x-oss-process*): a frame of
/// a video or a resized image, made by ffmpeg once (in a slot of `--screenshot-concurrency`,
/// under `--screenshot-timeout-ms`, as `getVideoScreenshot`) and then served from
/// `ProcessedImageCache`.
struct OSSProcessor: Sendable {
    /// The image to serve.
    struct Image: Sendable {
        let path: String
        let size: Int
        let contentType: String
    }

    /// Why there is no image: the status and the text of `fail(text)`.
    struct Failure: Error, Equatable {
        let status: HTTPResponse.Status
        let text: String

        init(_ text: String, status: HTTPResponse.Status = .badRequest) {
            self.status = status
            self.text = text
        }
    }

    let screenshotter: VideoScreenshotter
    let cache: ProcessedImageCache

    init(screenshotter: VideoScreenshotter) {
        self.screenshotter = screenshotter
        cache = ProcessedImageCache(uploadRoot: screenshotter.folder.root, maximumBytes: screenshotter.policy.processedCacheBytes)
    }

    /// Images resized, by the extension they are stored (and served) with, and ffmpeg's
    /// encoder for each. GIF is not among them: ffmpeg would keep one frame of an animation.
    static let imageEncoders: [String: String] = ["jpg": "mjpeg", "jpeg": "mjpeg", "png": "png", "bmp": "bmp", "webp": "libwebp"]

    static let notAVideo = Failure("视频截图仅支持视频文件")
    static let notAnImage = Failure("图片缩放仅支持jpg、jpeg、png、bmp、webp图片")

    private static func outcome(_ kind: String, _ result: String) -> Counter {
        Counter(label: "chat_oss_process_total", dimensions: [("kind", kind), ("result", result)])
    }

    private static let counters = (
        snapshot: (made: outcome("snapshot", "made"), cached: outcome("snapshot", "cached"), refused: outcome("snapshot", "refused")),
        resize: (made: outcome("resize", "made"), cached: outcome("resize", "cached"), refused: outcome("resize", "refused")),
        unparsed: outcome("unknown", "refused")
    )

    /// The image `value` (the query's `x-oss-process`) asks of the stored file `names`
    /// (at `source`).
    func image(_ value: Substring, of names: [String], at source: String) async throws(Failure) -> Image {
        let process: OSSProcess
        do throws(OSSProcess.Refusal) {
            process = try OSSProcess(parsing: value)
        } catch {
            Self.counters.unparsed.increment()
            throw Failure(error.text)
        }
        let ext = names[names.count - 1].split(separator: ".").last.map { $0.lowercased() } ?? ""
        let counters = switch process {
        case .snapshot: Self.counters.snapshot
        case .resize: Self.counters.resize
        }
        let outputExtension: String
        let arguments: (_ output: String) -> [String]
        switch process {
        case .snapshot(let snapshot):
            guard FilePolicy.videoExtensions.contains(ext) else {
                counters.refused.increment()
                throw Self.notAVideo
            }
            outputExtension = snapshot.format.rawValue
            arguments = { Self.snapshotArguments(input: source, output: $0, snapshot) }
        case .resize(let resize):
            guard let encoder = Self.imageEncoders[ext] else {
                counters.refused.increment()
                throw Self.notAnImage
            }
            outputExtension = ext
            arguments = { Self.resizeArguments(input: source, output: $0, resize, encoder: encoder) }
        }
        let name = ProcessedImageCache.name(source: names, process: process, extension: outputExtension)
        let contentType = MediaTypes.contentType(ofName: name)
        if let cached = await cache.entry(name) {
            counters.cached.increment()
            return Image(path: cached.path, size: cached.size, contentType: contentType)
        }
        guard let partial = await cache.partialPath(extension: outputExtension) else { throw Failure("图片处理失败: 文件保存失败", status: .internalServerError) }
        defer { unlink(partial) }
        do throws(VideoScreenshotter.Failure) {
            try await screenshotter.runFFmpeg(arguments(partial), writing: partial, from: source)
        } catch {
            throw Self.failure(error)
        }
        guard let stored = await cache.store(partial, as: name) else {
            // ffmpeg succeeded and wrote nothing: a time past the end of the video.
            if case .snapshot = process { throw Failure("截图生成失败") }
            throw Failure("图片处理失败: 没有生成图片", status: .internalServerError)
        }
        counters.made.increment()
        return Image(path: stored.path, size: stored.size, contentType: contentType)
    }

    private static func failure(_ failure: VideoScreenshotter.Failure) -> Failure {
        switch failure {
        case .busy: Failure("图片处理失败: 服务繁忙，请稍后再试", status: .serviceUnavailable)
        case .timedOut: Failure("图片处理失败: 处理超时", status: .internalServerError)
        case .ffmpegUnavailable: Failure("图片处理失败: 无法启动ffmpeg", status: .internalServerError)
        case .ffmpegFailed(let status): Failure("图片处理失败: ffmpeg退出码\(status)", status: .internalServerError)
        case .noImage, .notOurVideo, .videoMissing, .storageFailed: Failure("图片处理失败: " + failure.text, status: .internalServerError)
        }
    }

    /// As `getVideoScreenshot` (local files only, one frame). Exact: seek, then decode up to
    /// `t`. `m_fast`: only keyframes are decoded, reading stops just after `t`, and the last
    /// one is kept (`-update 1` overwrites the image with each): the keyframe at or before
    /// `t`. (Seeking with `-noaccurate_seek` does not give it: ffmpeg's MP4 demuxer starts
    /// at the sample at `t`, measured.)
    static func snapshotArguments(input: String, output: String, _ snapshot: OSSProcess.Snapshot) -> [String] {
        var arguments = ["-nostdin", "-hide_banner", "-loglevel", "error", "-protocol_whitelist", "file"]
        if snapshot.fast {
            arguments += ["-skip_frame", "nokey", "-to", seconds(snapshot.milliseconds + 1), "-i", input]
        } else {
            arguments += ["-ss", seconds(snapshot.milliseconds), "-i", input, "-frames:v", "1"]
        }
        switch (snapshot.width, snapshot.height) {
        case (0, 0): break
        case (let width, 0): arguments += ["-vf", "scale=\(width):-1"]
        case (0, let height): arguments += ["-vf", "scale=-1:\(height)"]
        case (let width, let height): arguments += ["-vf", "scale=\(width):\(height)"]
        }
        if snapshot.fast { arguments += ["-update", "1"] }
        arguments += ["-c:v", snapshot.format.codec, "-f", "image2", "-y", output]
        return arguments
    }

    /// `1.020` for 1020 ms.
    private static func seconds(_ milliseconds: Int64) -> String {
        "\(milliseconds / 1000).\(String(1000 + milliseconds % 1000).dropFirst())"
    }

    static func resizeArguments(input: String, output: String, _ resize: OSSProcess.Resize, encoder: String) -> [String] {
        [
            "-nostdin", "-hide_banner", "-loglevel", "error", "-protocol_whitelist", "file",
            "-i", input, "-frames:v", "1", "-vf", resizeFilter(resize), "-c:v", encoder, "-f", "image2", "-y", output,
        ]
    }

    /// The ffmpeg filter of a resize, in OSS's terms: a scale factor from the asked sides
    /// (the smaller of the ratios to fit, the larger to cover; at most 1 with `limit_1`),
    /// then a cut (`fill`) or white margins (`pad`) to exactly w×h.
    static func resizeFilter(_ resize: OSSProcess.Resize) -> String {
        let ratios = [resize.width.map { "\($0)/iw" }, resize.height.map { "\($0)/ih" }].compactMap { $0 }
        func factor(_ pick: String) -> String {
            var factor = ratios.count == 1 ? ratios[0] : "\(pick)(\(ratios[0]),\(ratios[1]))"
            if resize.limit { factor = "min(1,\(factor))" }
            return factor
        }
        func scale(_ factor: String) -> String {
            "scale=w='max(1,round(iw*\(factor)))':h='max(1,round(ih*\(factor)))'"
        }
        let width = resize.width ?? 0
        let height = resize.height ?? 0
        switch resize.mode {
        case .lfit: return scale(factor("min"))
        case .mfit: return scale(factor("max"))
        case .fill: return scale(factor("max")) + ",crop=w='min(iw,\(width))':h='min(ih,\(height))'"
        case .pad:
            return scale(factor("min")) + ",pad=w='max(iw,\(width))':h='max(ih,\(height))':x='(ow-iw)/2':y='(oh-ih)/2':color=white"
        case .fixed:
            guard resize.limit else { return "scale=\(width):\(height)" }
            // limit_1: a target larger than the original leaves the original size.
            let larger = "gt(\(width),iw)+gt(\(height),ih)"
            return "scale=w='if(\(larger),iw,\(width))':h='if(\(larger),ih,\(height))'"
        }
    }
}
