/// Why an upload was not stored. Each has the Chinese text the client shows; the caller
/// answers `fail(text)` (`uploadAliyun`: `fail('上传失败: ' + text)`, as docs/api.md says).
enum UploadRefusal: Error, Equatable {
    /// `:diydir` is not 1–64 letters, digits, `_` or `-`.
    case badFolderName
    /// Not a `multipart/form-data` body (or no boundary).
    case notMultipart
    /// No part of the expected field with a file name.
    case missingFile(field: String)
    /// Larger than `--upload-max-bytes` (by Content-Length or by counting).
    case tooLarge(limit: Int)
    /// The file name's extension (or, without one, its type) is not allowed.
    case forbiddenType(String)
    /// The multipart body does not parse, or ends early.
    case malformed
    /// The client went away before the body ended.
    case interrupted
    /// The disk refused the file.
    case storageFailed
    /// The user uploaded `--uploads-per-day` files today already.
    case dailyQuota

    var text: String {
        switch self {
        case .badFolderName: "文件夹名称只能包含字母、数字、_和-（1-64个字符）"
        case .notMultipart: "请使用multipart/form-data格式上传文件"
        case .missingFile(let field): "请选择要上传的文件（字段\(field)）"
        case .tooLarge(let limit): "文件大小不能超过\(Self.size(limit))"
        case .forbiddenType(let type): type.isEmpty ? "不支持上传该类型的文件" : "不支持上传\(type)类型的文件"
        case .malformed: "上传数据格式错误"
        case .interrupted: "上传中断"
        case .storageFailed: "文件保存失败"
        case .dailyQuota: "今日上传文件数量已达上限，请明天再试"
        }
    }

    /// `100MB`, `512KB`, or bytes when not a whole number of either.
    static func size(_ bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20)MB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10)KB" }
        return "\(bytes)字节"
    }
}
