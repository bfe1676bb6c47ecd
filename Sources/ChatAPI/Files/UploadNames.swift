import ChatGateway
import Foundation

/// The names the bridge gives uploads (the old server's patterns): a folder per local
/// day, and files named by the millisecond plus random digits, never by the client.
enum UploadNames {
    /// `YYYYMMDD`, local time.
    static func day(_ date: Date = Date()) -> String {
        var time = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        localtime_r(&time, &parts)
        return String(format: "%04d%02d%02d", Int32(parts.tm_year) + 1900, Int32(parts.tm_mon) + 1, Int32(parts.tm_mday))
    }

    /// `uploadStreamSingleToServerDiy`: `{ms}_{8 digits}.{ext}`.
    static func diy(extension ext: String, milliseconds: Int64 = WallClock.milliseconds()) -> String {
        let digits = String(UInt32.random(in: 0..<100_000_000))
        return "\(milliseconds)_\(String(repeating: "0", count: 8 - digits.count))\(digits).\(ext)"
    }

    /// `uploadAliyun`: `{ms}_{12 hex}.{ext}` (six random bytes, as `crypto.randomBytes(6)`).
    static func aliyun(extension ext: String, milliseconds: Int64 = WallClock.milliseconds()) -> String {
        let hex = String(UInt64.random(in: 0..<(1 << 48)), radix: 16)
        return "\(milliseconds)_\(String(repeating: "0", count: 12 - hex.count))\(hex).\(ext)"
    }

    /// `getVideoScreenshot`: `screenshot_{ms}_{6 base-36}.{format}`.
    static func screenshot(format: String, milliseconds: Int64 = WallClock.milliseconds()) -> String {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz")
        let random = String((0..<6).map { _ in alphabet.randomElement()! })
        return "screenshot_\(milliseconds)_\(random).\(format)"
    }

    /// The extension an upload is stored with: the client's file name's (lower case),
    /// else one for its Content-Type; "" when neither says.
    static func fileExtension(filename: String?, contentType: String?) -> String {
        if let filename {
            let base = filename.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last ?? ""
            if let dot = base.lastIndex(of: "."), base.index(after: dot) < base.endIndex {
                let ext = base[base.index(after: dot)...].lowercased()
                if ext.utf8.count <= 10, ext.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) { return ext }
                return ""
            }
        }
        guard let contentType else { return "" }
        let type = contentType.split(separator: ";").first.map { $0.trimming(" \t") } ?? ""
        return extensionsByType[type] ?? ""
    }

    static let extensionsByType: [String: String] = [
        "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp", "image/bmp": "bmp",
        "video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm", "video/3gpp": "3gp",
        "audio/mpeg": "mp3", "audio/mp4": "m4a", "audio/aac": "aac", "audio/wav": "wav", "audio/x-wav": "wav",
        "audio/amr": "amr", "audio/ogg": "ogg",
    ]
}
