/// Why `friend_request` or `friend_update` refused a change: their error codes.
public enum FriendRefusal: String, Error, Sendable, Hashable {
    /// The target is gone or disabled (requests); no pending request to me with that id
    /// (handling); no row of mine, or (star, visibility) a blacklisted one.
    case missing
    /// A pending or agreed request from me to them exists already.
    case duplicate
    /// The other user blocks me: no request, automatic friendship or agreement from me
    /// (docs/api.md, *Blocks*).
    case blocked
    /// The target approves requests (`invite_confirm ≠ 0`): no automatic friendship.
    case needsConfirm = "needs_confirm"
    /// A pair key changed between the caller's read and the script: read again.
    case stale
    /// A new row's id is taken (the id counter went back): nothing was written, never overwritten.
    case idTaken = "id_taken"
}
