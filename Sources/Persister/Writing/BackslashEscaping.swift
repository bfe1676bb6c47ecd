extension Array where Element == UInt8 {
    /// Appends `utf8` with a backslash before the letter `escape` gives for each byte that
    /// needs one (nil: the byte as it is). Copies the runs between those bytes whole: most
    /// values have none, or a few. SQL string literals (``SQLText``) and `LOAD DATA` fields
    /// (``LoadDataRows``) differ only in their tables.
    @inline(__always)
    mutating func appendBackslashEscaped(_ utf8: UnsafeBufferPointer<UInt8>, escape: (UInt8) -> UInt8?) {
        var runStart = 0
        for index in utf8.indices {
            guard let escaped = escape(utf8[index]) else { continue }
            append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
            append(UInt8(ascii: "\\"))
            append(escaped)
            runStart = index + 1
        }
        append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
    }
}
