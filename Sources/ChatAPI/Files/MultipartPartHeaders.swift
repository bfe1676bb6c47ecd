/// What a multipart part says about itself: its form field, file name and type, from
/// `Content-Disposition: form-data; name="…"; filename="…"` and `Content-Type`.
struct MultipartPartHeaders: Equatable, Sendable {
    var name: String?
    var filename: String?
    var contentType: String?

    init(name: String? = nil, filename: String? = nil, contentType: String? = nil) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
    }

    /// Parses a header block (`Name: value` lines, each ending in CRLF). Header bytes are
    /// read as UTF-8: browsers and uni-app send file names that way.
    init(block: [UInt8]) throws(MultipartParser.Failure) {
        guard let text = String(validating: block, as: UTF8.self) else { throw .malformed }
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed }
            let field = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimming(" \t")
            switch field {
            case "content-disposition":
                let parameters = Self.parameters(of: value)
                name = parameters["name"]
                filename = parameters["filename"]
            case "content-type":
                contentType = value.lowercased()
            default:
                continue
            }
        }
    }

    /// `form-data; name="a"; filename="b c.jpg"` → `["name": "a", "filename": "b c.jpg"]`.
    /// Quoted values may hold `;` and backslash escapes; names are case-insensitive.
    static func parameters(of value: String) -> [String: String] {
        var result: [String: String] = [:]
        var characters = Substring(value)
        // Skip the disposition type.
        guard let firstSemicolon = characters.firstIndex(of: ";") else { return result }
        characters = characters[characters.index(after: firstSemicolon)...]
        while !characters.isEmpty {
            characters = characters.drop { $0 == " " || $0 == "\t" || $0 == ";" }
            guard let equals = characters.firstIndex(of: "=") else { break }
            let key = characters[..<equals].trimming(" \t").lowercased()
            characters = characters[characters.index(after: equals)...].drop { $0 == " " || $0 == "\t" }
            var parsed = ""
            if characters.first == "\"" {
                characters = characters.dropFirst()
                var escaped = false
                while let character = characters.first {
                    characters = characters.dropFirst()
                    if escaped {
                        parsed.append(character)
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        break
                    } else {
                        parsed.append(character)
                    }
                }
                characters = characters.drop { $0 != ";" }
            } else {
                let end = characters.firstIndex(of: ";") ?? characters.endIndex
                parsed = characters[..<end].trimming(" \t")
                characters = characters[end...]
            }
            if result[key] == nil { result[key] = parsed }
        }
        return result
    }

    /// The boundary of a `multipart/form-data` Content-Type, or nil for any other type.
    static func boundary(ofContentType contentType: String?) -> String? {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        guard let boundary = parameters(of: contentType)["boundary"], (1...70).contains(boundary.utf8.count) else { return nil }
        return boundary
    }
}

extension StringProtocol {
    /// Without leading and trailing characters of `set` (no Foundation needed).
    package func trimming(_ set: String) -> String {
        let trimmedStart = drop { set.contains($0) }
        var end = trimmedStart.endIndex
        while end > trimmedStart.startIndex, set.contains(trimmedStart[trimmedStart.index(before: end)]) {
            end = trimmedStart.index(before: end)
        }
        return String(trimmedStart[..<end])
    }
}
