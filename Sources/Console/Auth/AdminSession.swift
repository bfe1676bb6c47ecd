/// A logged-in operator's session, as kept in `chat:admin:session:{sha256 of the token}`.
struct AdminSession: Sendable, Equatable {
    /// The Redis key (the cookie's token itself is never stored).
    let key: String
    let admin: String
    /// The CSRF token of every form and of `X-CSRF-Token`.
    let csrf: String
    /// The login's time, ms: the absolute end is `created + --session-max-seconds`.
    let created: Int64
}
