import Model

/// The outcome of a POST, carried to the page it redirects to by the `console_flash`
/// cookie as a code (never as text: nothing a request sends is ever shown as a message).
enum FlashMessage: Sendable, Equatable {
    case success(Success)
    case failure(Failure)
    /// `已重放 N 条`.
    case replayedAll(Int)

    enum Success: String, Sendable {
        case created, updated, disabled, enabled, deleted, replied, replayed, dropped

        var text: String {
            switch self {
            case .created: "创建成功"
            case .updated: "修改成功"
            case .disabled: "禁用成功"
            case .enabled: "启用成功"
            case .deleted: "删除成功"
            case .replied: "处理成功"
            case .replayed: "重放成功"
            case .dropped: "已丢弃"
            }
        }
    }

    /// The refusals a form's page shows in `#error`.
    enum Failure: String, Sendable {
        case usernameTaken = "username-taken"
        case usernameTakenByOther = "username-taken-edit"
        case userMissing = "user-missing"
        case missing
        case usernameLength = "username-length"
        case passwordLength = "password-length"
        case nicknameLength = "nickname-length"
        case avatarLength = "avatar-length"
        case statusInvalid = "status-invalid"
        case replyLength = "reply-length"
        case deleted
        case failed

        var text: String {
            switch self {
            case .usernameTaken: "即时通讯用户账号已存在"
            case .usernameTakenByOther: "该即时通讯用户账号已经存在，不能修改成该即时通讯用户账号"
            case .userMissing: "该即时通讯用户记录不存在"
            case .missing: "该记录不存在"
            case .usernameLength: "即时通讯用户账号为 4–20 个字符"
            case .passwordLength: "即时通讯用户密码为 6–20 个字符"
            case .nicknameLength: "昵称最多 30 个字符"
            case .avatarLength: "即时通讯用户头像地址最多 1000 个字符"
            case .statusInvalid: "处理状态不正确"
            case .replyLength: StoredLimits.Console.adminReply.refusal("admin_reply")
            case .deleted: "该即时通讯用户已删除，不能修改"
            case .failed: "操作失败，请稍后再试"
            }
        }
    }

    var text: String {
        switch self {
        case .success(let success): success.text
        case .failure(let failure): failure.text
        case .replayedAll(let count): "已重放 \(count) 条"
        }
    }

    var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }

    /// The cookie's value: `ok.created`, `err.username-taken`, `all.3`.
    var code: String {
        switch self {
        case .success(let success): "ok." + success.rawValue
        case .failure(let failure): "err." + failure.rawValue
        case .replayedAll(let count): "all.\(count)"
        }
    }

    init?(code: String) {
        let parts = code.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        switch parts[0] {
        case "ok": guard let success = Success(rawValue: parts[1]) else { return nil }; self = .success(success)
        case "err": guard let failure = Failure(rawValue: parts[1]) else { return nil }; self = .failure(failure)
        case "all": guard let count = Int(parts[1]), count >= 0 else { return nil }; self = .replayedAll(count)
        default: return nil
        }
    }
}
