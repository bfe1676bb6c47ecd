import ChatScripts

/// The Chinese texts of a refused send (docs/api.md, *Single-chat rules*, *Group rules*), from
/// the refusals of the send scripts. Visitors read `发消息` where users read `发送消息`.
enum SendRefusal {
    static let toMyself = "不能给自己发消息"
    static let groupUnavailable = "群不存在或者已解散或者被封禁，无法发消息"
    static let notSent = "发送失败，请稍后再试"
    static let notInGroup = "您不在群里，无法发消息"
    /// Over the sender's send rate (docs/operations.md, *Quotas*).
    static let tooFast = "发送太频繁，请稍后再试"
    /// A `type` only the server sends (`SystemNotice.reservedTypes`).
    static let reservedType = "不能发送系统消息"

    /// The text of a refused single-chat send.
    static func text(for refusal: SendSingleMessage.Refusal) -> String {
        switch refusal {
        case .token: AuthRefusal.invalidToken
        case .sender: AuthRefusal.unavailable
        case .rate: tooFast
        // The same client id's send is still under way between partitions: "not sent" is
        // what a client retrying with that client id is told while it cannot know.
        case .pending: notSent
        case .recipient: "对方不存在或者被禁用，不能发消息"
        case .blacklisted(let role): role == .visitor ? "对方把你拉黑了，不能发消息" : "对方把你拉黑了，不能发送消息"
        case .blocked(let role): role == .visitor ? "系统把你们拉黑了，不能发消息" : "系统把你们拉黑了，不能发送消息"
        case .friendsOnly(let role):
            role == .visitor ? "你们不是好友关系，对方设置成：先登录才能发消息" : "对方设置成：需要您先成为他的好友才能发消息"
        case .quota: "在成为好友之前，对方只允许向他发一条消息"
        }
    }

    /// The text of a refused group send.
    static func text(for refusal: SendGroupMessage.Refusal) -> String {
        switch refusal {
        case .token: AuthRefusal.invalidToken
        case .sender: AuthRefusal.unavailable
        case .group: groupUnavailable
        case .notMember: notInGroup
        case .rate: tooFast
        }
    }
}
