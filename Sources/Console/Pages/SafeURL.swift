/// Which URLs from user data may become a link or an image source: `http(s)://` and
/// site-relative paths only (never `javascript:` or `data:` from users).
enum SafeURL {
    static func isImage(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("https://") || lower.hasPrefix("http://") || (lower.hasPrefix("/") && !lower.hasPrefix("//"))
    }
}
