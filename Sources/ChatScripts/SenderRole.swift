/// The sender's stored role, which picks the text of some refusals (a visitor reads
/// `发消息` where a user reads `发送消息`).
public enum SenderRole: String, Sendable, Equatable {
    case user, visitor
}
