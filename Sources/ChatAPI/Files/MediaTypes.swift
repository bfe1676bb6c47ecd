/// The Content-Type a stored file is served with, by its extension. Nothing a browser
/// would run (HTML, SVG): anything unknown is `application/octet-stream`.
enum MediaTypes {
    static func contentType(ofName name: String) -> String {
        guard let dot = name.lastIndex(of: ".") else { return fallback }
        return byExtension[name[name.index(after: dot)...].lowercased()] ?? fallback
    }

    static let fallback = "application/octet-stream"

    static let byExtension: [String: String] = [
        "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
        "bmp": "image/bmp", "ico": "image/x-icon",
        "mp4": "video/mp4", "m4v": "video/x-m4v", "mov": "video/quicktime", "webm": "video/webm", "3gp": "video/3gpp",
        "avi": "video/x-msvideo", "mkv": "video/x-matroska",
        "mp3": "audio/mpeg", "m4a": "audio/mp4", "aac": "audio/aac", "wav": "audio/wav", "amr": "audio/amr",
        "ogg": "audio/ogg",
        "txt": "text/plain; charset=utf-8", "pdf": "application/pdf",
    ]
}
