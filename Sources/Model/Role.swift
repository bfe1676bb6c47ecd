/// What an account may do: a registered user, or a visitor (游客) account made for a
/// device, restricted to the visitor whitelist.
public enum Role: String, Sendable, Hashable, Codable {
    case user
    case visitor
}
