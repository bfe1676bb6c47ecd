#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Metrics
import NIOPosix

/// The images made for `x-oss-process` requests, kept on disk in a hidden folder of the
/// upload folder (`.oss-process/`, never served by name: `UploadFolder` refuses names with
/// a leading dot), so each is made by ffmpeg once.
///
/// An image is named by a hash of its source's path and the request's canonical
/// parameters: stored uploads never change their contents, so an entry never goes stale.
/// Bounded in bytes (`--oss-cache-mb`): after each new image, the least recently used
/// ones (by modification time, refreshed on a hit at most once an hour) are removed until
/// the folder fits. Several bridge processes may share the folder: names are
/// content-addressed and written by rename, so they only ever race to write the same image.
struct ProcessedImageCache: Sendable {
    static let folderName = ".oss-process"
    /// A hit refreshes its entry's time when it is older than this (seconds).
    static let refreshAfter = 3600

    /// Absolute, without a trailing slash.
    let path: String
    let maximumBytes: Int

    init(uploadRoot: String, maximumBytes: Int) {
        path = uploadRoot + "/" + Self.folderName
        self.maximumBytes = maximumBytes
    }

    private static let evictions = Counter(label: "chat_oss_cache_evictions_total")
    private static let bytes = Gauge(label: "chat_oss_cache_bytes")

    /// The entry's file name: 32 hex digits of SHA-256, and the image's extension.
    static func name(source: [String], process: OSSProcess, extension ext: String) -> String {
        let digest = SHA256.hash(data: Array((source.joined(separator: "/") + "\n" + process.canonical).utf8))
        return digest.prefix(16).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined() + "." + ext
    }

    /// The entry's path and size, when it is there.
    func entry(_ name: String) async -> (path: String, size: Int)? {
        let file = path + "/" + name
        return try? await NIOThreadPool.singleton.runIfActive { () -> (path: String, size: Int)? in
            var info = stat()
            guard lstat(file, &info) == 0, info.st_mode & mode_t(S_IFMT) == mode_t(S_IFREG), info.st_size > 0 else { return nil }
            if Int(time(nil)) - Int(info.st_mtim.tv_sec) > Self.refreshAfter {
                utimensat(AT_FDCWD, file, nil, 0)
            }
            return (file, Int(info.st_size))
        }
    }

    /// A fresh hidden name in the folder for ffmpeg to write (the folder made if missing);
    /// nil when it cannot be made.
    func partialPath(extension ext: String) async -> String? {
        let folder = path
        let made = try? await NIOThreadPool.singleton.runIfActive { () -> Bool in
            mkdir(folder, 0o755) == 0 || errno == EEXIST
        }
        guard made == true else { return nil }
        return folder + "/.part-" + String(UInt64.random(in: 0...UInt64.max), radix: 36) + "." + ext
    }

    /// Moves a complete image in as `name`; then trims the folder to its bound.
    func store(_ partial: String, as name: String) async -> (path: String, size: Int)? {
        let folder = path
        let maximumBytes = maximumBytes
        return try? await NIOThreadPool.singleton.runIfActive { () -> (path: String, size: Int)? in
            let file = folder + "/" + name
            var info = stat()
            guard stat(partial, &info) == 0, info.st_size > 0, rename(partial, file) == 0 else { return nil }
            Self.trim(folder, to: maximumBytes, keeping: name)
            return (file, Int(info.st_size))
        }
    }

    /// Removes the least recently used entries until the folder holds `maximumBytes` at
    /// most; `keeping` (the entry just made) stays even when it alone is larger. Hidden
    /// files (images being written) are neither counted nor removed.
    private static func trim(_ folder: String, to maximumBytes: Int, keeping: String) {
        guard let directory = opendir(folder) else { return }
        var entries: [(name: String, size: Int, time: Int)] = []
        var total = 0
        while let item = readdir(directory) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard !name.hasPrefix(".") else { continue }
            var info = stat()
            guard lstat(folder + "/" + name, &info) == 0, info.st_mode & mode_t(S_IFMT) == mode_t(S_IFREG) else { continue }
            entries.append((name, Int(info.st_size), Int(info.st_mtim.tv_sec)))
            total += Int(info.st_size)
        }
        closedir(directory)
        if total > maximumBytes {
            for entry in entries.sorted(by: { $0.time < $1.time }) where entry.name != keeping {
                guard total > maximumBytes else { break }
                if unlink(folder + "/" + entry.name) == 0 {
                    total -= entry.size
                    evictions.increment()
                }
            }
        }
        bytes.record(total)
    }
}
