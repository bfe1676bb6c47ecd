/// How the bridge stores and serves uploaded files (`--upload-*`, `--public-base-url`,
/// `--ffmpeg`, `--screenshot-*`, `--oss-cache-mb`).
package struct FilePolicy: Sendable {
    /// The upload folder; relative paths are taken from the working directory.
    package var uploadFolder = "uploads"
    /// Largest file accepted, in bytes.
    package var maxUploadBytes = 100 << 20
    /// File name extensions (lower case, without the dot) that may be uploaded.
    package var allowedExtensions: Set<String> = Self.defaultExtensions
    /// Scheme, host and port of the bridge as clients reach it (`uploadAliyun` answers
    /// absolute URLs); nil: `http://` + the request's Host.
    package var publicBaseURL: String?
    /// The ffmpeg executable: a path, or a name looked up in `PATH`.
    package var ffmpeg = "ffmpeg"
    /// ffmpeg is killed after this long.
    package var screenshotTimeout: Duration = .seconds(15)
    /// ffmpeg processes at once (per bridge process); more requests are refused.
    package var screenshotConcurrency = 4
    /// Bytes the `x-oss-process` images may take on disk (`ProcessedImageCache`).
    package var processedCacheBytes = 256 << 20
    /// Files one user may upload per day (UTC), counted in Redis (docs/operations.md, *Quotas*).
    package var uploadsPerDay = 500

    package init() {}

    /// What the deployed client sends: images, videos and voice recordings.
    static let defaultExtensions: Set<String> = [
        "jpg", "jpeg", "png", "gif", "webp", "bmp",
        "mp4", "mov", "m4v", "webm", "3gp", "avi",
        "mp3", "m4a", "aac", "wav", "amr", "ogg",
    ]

    /// Extensions `getVideoScreenshot` runs ffmpeg on (of those stored here).
    static let videoExtensions: Set<String> = ["mp4", "mov", "m4v", "webm", "3gp", "avi", "mkv"]
}
