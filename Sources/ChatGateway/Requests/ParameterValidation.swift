import Metrics
import Model

/// Checks of docs/api.md's parameters, failing with a Chinese text that names the field.
/// Lengths are counted in UTF-16 code units, as JavaScript's `.length` does.
extension RequestParameters {
    /// Whether a parameter was sent with a value (not absent, null or empty): the
    /// endpoints that answer one text for every missing parameter check this first.
    package func isGiven(_ name: String) -> Bool {
        switch self[name] {
        case .none, .null, .string(""): false
        default: true
        }
    }

    /// A required text parameter; numbers are accepted as their decimal text.
    package func string(_ name: String, length: ClosedRange<Int>? = nil) throws(APIFailure) -> String {
        let text: String
        switch self[name] {
        case .string(let value): text = value
        case .integer(let value): text = String(value)
        case .none, .null: throw APIFailure("参数\(name)不能为空")
        default: throw APIFailure("参数\(name)必须是字符串")
        }
        guard !text.isEmpty else { throw APIFailure("参数\(name)不能为空") }
        if let length, !length.contains(text.utf16.count) {
            if length.upperBound == Int.max { throw APIFailure("参数\(name)长度不能少于\(length.lowerBound)个字符") }
            throw APIFailure("参数\(name)长度应在\(length.lowerBound)-\(length.upperBound)之间")
        }
        return text
    }

    /// An optional text parameter: nil when absent or empty, checked when present.
    package func optionalString(_ name: String, length: ClosedRange<Int>? = nil) throws(APIFailure) -> String? {
        switch self[name] {
        case .none, .null, .string(""): nil
        default: try string(name, length: length)
        }
    }

    /// A required text parameter within a limit of the limits table (`StoredLimits`):
    /// longer is `limit.refusal(name)` (docs/api.md *Limits*).
    package func string(_ name: String, within limit: ColumnLimit) throws(APIFailure) -> String {
        let text = try string(name)
        guard limit.admits(text) else { throw APIFailure.overLimit(limit, limit.refusal(name)) }
        return text
    }

    /// An optional text parameter within a limit: nil when absent or empty.
    package func optionalString(_ name: String, within limit: ColumnLimit) throws(APIFailure) -> String? {
        switch self[name] {
        case .none, .null, .string(""): nil
        default: try string(name, within: limit)
        }
    }

    /// A required integer given as a number or a numeric string.
    package func integer(_ name: String, in range: ClosedRange<Int64> = Int64.min...Int64.max) throws(APIFailure) -> Int64 {
        guard let raw = self[name], raw != .null, raw != .string("") else { throw APIFailure("参数\(name)不能为空") }
        guard let value = raw.integerValue else { throw APIFailure("参数\(name)必须是整数") }
        guard range.contains(value) else {
            if range.upperBound == Int64.max { throw APIFailure("参数\(name)不能小于\(range.lowerBound)") }
            throw APIFailure("参数\(name)应在\(range.lowerBound)-\(range.upperBound)之间")
        }
        return value
    }

    /// An optional integer: nil when absent or empty, checked when present.
    package func optionalInteger(_ name: String, in range: ClosedRange<Int64> = Int64.min...Int64.max) throws(APIFailure) -> Int64? {
        switch self[name] {
        case .none, .null, .string(""): nil
        default: try integer(name, in: range)
        }
    }

    /// A required text parameter that must be one of `allowed`.
    package func oneOf(_ name: String, _ allowed: [String]) throws(APIFailure) -> String {
        let value = try string(name)
        guard allowed.contains(value) else {
            throw APIFailure("参数\(name)的值只能是\(allowed.joined(separator: "、"))")
        }
        return value
    }
}

extension APIFailure {
    /// A value over its limit of the limits table, refused with `text` and counted by column
    /// (`chat_limit_refusals_total`, docs/operations.md).
    package static func overLimit(_ limit: ColumnLimit, _ text: String) -> APIFailure {
        Counter(label: "chat_limit_refusals_total", dimensions: [("column", "\(limit.table).\(limit.column)")]).increment()
        return APIFailure(text)
    }
}
