/// The Chinese texts of a refused send (API.md, *Single-chat rules*, *Group rules*), from
/// the short codes the send scripts answer. Visitors read `发消息` where users read `发送消息`.
enum SendRefusal {
    static let toMyself = "不能给自己发消息"
    static let groupUnavailable = "群不存在或者已解散或者被封禁，无法发消息"
    static let notSent = "发送失败，请稍后再试"
    static let notInGroup = "您不在群里，无法发消息"

    /// `code` or `code role`, as `lua/message_send_single.lua` and
    /// `lua/message_send_group.lua` answer; nil when unknown.
    static func text(forScriptError message: String) -> String? {
        let words = message.split(separator: " ")
        let visitor = words.count > 1 && words[1] == "visitor"
        switch words.first {
        case "token": return AuthRefusal.invalidToken
        case "sender": return AuthRefusal.unavailable
        case "recipient": return "对方不存在或者被禁用，不能发消息"
        case "blacklisted": return visitor ? "对方把你拉黑了，不能发消息" : "对方把你拉黑了，不能发送消息"
        case "blocked": return visitor ? "系统把你们拉黑了，不能发消息" : "系统把你们拉黑了，不能发送消息"
        case "friends_only":
            return visitor ? "你们不是好友关系，对方设置成：先登录才能发消息" : "对方设置成：需要您先成为他的好友才能发消息"
        case "quota": return "在成为好友之前，对方只允许向他发一条消息"
        case "group": return groupUnavailable
        case "not_member": return notInGroup
        default: return nil
        }
    }
}
