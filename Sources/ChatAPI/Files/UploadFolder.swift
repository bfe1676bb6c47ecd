#if canImport(Glibc)
import Glibc
#endif
import Model
import NIOPosix

/// The upload folder, and the only place where URL paths become file paths. A path
/// inside it is a list of *names* the bridge itself could have made (letters, digits,
/// `_`, `-` and `.`, not starting with a dot), so `..`, `.`, encoded slashes, absolute
/// paths and hidden (temporary) files cannot be named; and a file is served or read
/// only when the real path of it (symbolic links resolved) is that same path inside
/// the real path of the folder.
package struct UploadFolder: Sendable {
    /// Where the bridge serves the folder.
    static let urlPrefix = "/public/uploads/"

    /// Absolute, without a trailing slash.
    let root: String

    init(path: String) {
        var absolute = path
        if !absolute.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let directory = getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "."
            absolute = directory + "/" + path
        }
        while absolute.count > 1, absolute.hasSuffix("/") { absolute.removeLast() }
        root = absolute
    }

    /// A folder or file name the bridge makes and serves.
    static func isSafeName(_ name: some StringProtocol) -> Bool {
        guard let first = name.utf8.first, first != UInt8(ascii: "."), name.utf8.count <= 128 else { return false }
        return name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
                true
            default: false
            }
        }
    }

    /// The names below `/public/uploads/` of a request path as it came (percent-encoded;
    /// each name is decoded once, then checked), or nil when it names nothing of ours.
    static func relativePath(ofURLPath rawPath: some StringProtocol) -> [String]? {
        guard rawPath.hasPrefix(urlPrefix) else { return nil }
        let rest = rawPath.dropFirst(urlPrefix.count)
        var names: [String] = []
        for encoded in rest.split(separator: "/", omittingEmptySubsequences: false) {
            guard let name = URIComponent.decode(String(encoded)), isSafeName(name) else { return nil }
            names.append(name)
        }
        return names.isEmpty ? nil : names
    }

    /// The names of the file an upload URL points at: `/public/uploads/…`, or an
    /// `http(s)://host/public/uploads/…` URL (its query and fragment ignored). The host
    /// is not consulted: only a file in this folder can ever be named.
    static func relativePath(ofURL url: String) -> [String]? {
        var path = Substring(url)
        for scheme in ["http://", "https://"] where path.lowercased().hasPrefix(scheme) {
            path = path.dropFirst(scheme.count)
            guard let slash = path.firstIndex(of: "/") else { return nil }
            path = path[slash...]
        }
        if let end = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<end] }
        return relativePath(ofURLPath: path)
    }

    func path(of names: [String]) -> String {
        precondition(!names.isEmpty && names.allSatisfy(Self.isSafeName), "names are checked before they become paths")
        return root + "/" + names.joined(separator: "/")
    }

    /// The regular file at `names`, reached without symbolic links, and its size; nil
    /// when there is none. (On NIO's thread pool: realpath and stat block.)
    func existingFile(_ names: [String]) async -> (path: String, size: Int)? {
        let path = path(of: names)
        let root = root
        return try? await NIOThreadPool.singleton.runIfActive { () -> (path: String, size: Int)? in
            guard let realRoot = Self.realPath(root), Self.realPath(path) == realRoot + "/" + names.joined(separator: "/") else {
                return nil
            }
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & mode_t(S_IFMT) == mode_t(S_IFREG) else { return nil }
            return (path, Int(info.st_size))
        }
    }

    /// Makes the folders `names` (each inside the one before, inside the root) where
    /// missing; fails when one of them is not a real folder inside the root.
    func makeFolders(_ names: [String]) async throws(UploadRefusal) {
        let root = root
        let made = try? await NIOThreadPool.singleton.runIfActive { () -> Bool in
            // The root and its parents first (mkdir -p), then the names.
            var path = ""
            for component in root.split(separator: "/") {
                path += "/" + component
                guard mkdir(path, 0o755) == 0 || errno == EEXIST else { return false }
            }
            for name in names {
                path += "/" + name
                guard mkdir(path, 0o755) == 0 || errno == EEXIST else { return false }
            }
            guard let realRoot = Self.realPath(root), Self.realPath(path) == realRoot + "/" + names.joined(separator: "/") else {
                return false
            }
            var info = stat()
            return lstat(path, &info) == 0 && info.st_mode & mode_t(S_IFMT) == mode_t(S_IFDIR)
        }
        guard made == true else { throw .storageFailed }
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
