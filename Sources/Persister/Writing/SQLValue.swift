#if canImport(Glibc)
import Glibc
#endif
import Model

/// Turns a row snapshot's JSON value into the SQL literal for its column.
///
/// The scripts write times in three shapes (read `lua/*.lua`): `YYYY-MM-DD HH:mm:ss`
/// (the bridge's local time, as the old server stored it) goes in unchanged; ISO-8601
/// (`…T…Z`, UTC, `last_login`, `register_time`) loses its `T` and `Z`; a number is epoch
/// milliseconds (or seconds, below 10^11) and is written in UTC. `''` in a time column
/// is NULL.
enum SQLValue {
    static func append(_ value: JSONValue, for kind: TableSchema.Column.Kind, to sql: inout SQLText) throws(EntryError) {
        switch (value, kind) {
        case (.null, _):
            sql.append("NULL")
        case (.bool(let flag), _):
            sql.append(flag ? "1" : "0")
        case (.integer(let number), .dateTime):
            sql.append(quoted: dateTime(epoch: number))
        case (.integer(let number), _):
            sql.append(integer: number)
        case (.double(let number), .dateTime):
            sql.append(quoted: dateTime(epoch: Int64(number)))
        case (.double(let number), _):
            guard number.isFinite else { throw EntryError("a number that is not finite") }
            sql.appendRaw(number.rounded() == number && abs(number) < 9e15 ? String(Int64(number)) : String(number))
        case (.string(let text), .dateTime):
            if text.isEmpty {
                sql.append("NULL")
            } else if let number = Int64(text) {
                sql.append(quoted: dateTime(epoch: number))
            } else {
                sql.append(quoted: fromISO(text))
            }
        case (.string(let text), _):
            sql.append(quoted: text)
        case (.array, _), (.object, _):
            // A JSON column value kept as text (userset, images, …).
            sql.append(quoted: JSONSerializer.string(value))
        }
    }

    /// `2026-11-21T14:41:28.123Z` → `2026-11-21 14:41:28.123`; anything else unchanged.
    static func fromISO(_ text: String) -> String {
        guard text.utf8.count >= 19, text.hasSuffix("Z") else { return text }
        var utf8 = Array(text.utf8.dropLast())
        guard utf8[10] == UInt8(ascii: "T") else { return text }
        utf8[10] = UInt8(ascii: " ")
        return String(decoding: utf8, as: UTF8.self)
    }

    /// Epoch milliseconds (or seconds, for values below 10^11) as a UTC DATETIME(3) text.
    static func dateTime(epoch: Int64) -> String {
        let milliseconds = epoch < 100_000_000_000 ? epoch * 1000 : epoch
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2)) "
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds % 1000), 3))"
    }
}
