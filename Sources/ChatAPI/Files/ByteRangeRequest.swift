/// What a `Range` header asks of a file of `size` bytes (RFC 9110 §14): one range of
/// bytes — `bytes=a-b`, `bytes=a-` or the last n bytes `bytes=-n` — or the whole file
/// when there is no header, it does not parse, or it asks for several ranges (which the
/// RFC lets a server ignore).
enum ByteRangeRequest: Equatable {
    case whole
    case partial(ClosedRange<Int>)
    /// 416, with `Content-Range: bytes */size`.
    case unsatisfiable

    init(header: String?, size: Int) {
        guard let header else {
            self = .whole
            return
        }
        let text = header.trimming(" \t")
        guard text.lowercased().hasPrefix("bytes="), !text.contains(",") else {
            self = .whole
            return
        }
        let spec = text.dropFirst("bytes=".count).trimming(" \t")
        guard let dash = spec.firstIndex(of: "-") else {
            self = .whole
            return
        }
        let first = spec[..<dash]
        let last = spec[spec.index(after: dash)...]
        let digits = { (part: Substring) -> Bool in !part.isEmpty && part.allSatisfy { $0.isASCII && $0.isNumber } }
        if first.isEmpty {
            // The last n bytes.
            guard digits(last) else {
                self = .whole
                return
            }
            // A count too long to be a number asks for the whole file; 0 bytes cannot be given.
            let count = Int(last) ?? Int.max
            guard count > 0, size > 0 else {
                self = .unsatisfiable
                return
            }
            self = .partial(max(0, size - count)...(size - 1))
            return
        }
        guard digits(first), last.isEmpty || digits(last) else {
            self = .whole
            return
        }
        guard let start = Int(first), start < size else {
            self = .unsatisfiable
            return
        }
        // An end past the file (or too long to be a number) means "to the end".
        let end = last.isEmpty ? size - 1 : min(Int(last) ?? Int.max, size - 1)
        guard start <= end else {
            self = .whole  // `bytes=5-2` is invalid syntax: ignored
            return
        }
        self = .partial(start...end)
    }
}
