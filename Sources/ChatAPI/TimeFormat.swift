import Foundation

/// The two date formats of docs/api.md: entity `create_time` as `YYYY-MM-DD HH:mm:ss` (local
/// time, as the old server's getters printed it), other dates as ISO-8601 with ms (UTC,
/// as `JSON.stringify(new Date())`).
package enum TimeFormat {
    package static func rowTime(_ date: Date) -> String {
        let parts = local(date)
        return String(
            format: "%04ld-%02ld-%02ld %02ld:%02ld:%02ld",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec)
        )
    }

    /// The group notices' times (docs/api.md): local `YYYY/M/D HH:mm:ss`, as the old server's
    /// `toLocaleString()` printed them.
    static func noticeTime(_ date: Date) -> String {
        let parts = local(date)
        return String(
            format: "%ld/%ld/%ld %02ld:%02ld:%02ld",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec)
        )
    }

    /// The local calendar fields of `date`, to the second.
    private static func local(_ date: Date) -> tm {
        var time = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        localtime_r(&time, &parts)
        return parts
    }

    static func iso(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var time = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04ld-%02ld-%02ldT%02ld:%02ld:%02ld.%03ldZ",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(milliseconds % 1000)
        )
    }
}
