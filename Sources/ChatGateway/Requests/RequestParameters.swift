import HTTPTypes
import Model

/// The parameters of an API request: the body (a JSON object, or
/// `application/x-www-form-urlencoded`; docs/api.md accepts both), then the query string.
package struct RequestParameters: Sendable {
    /// Bodies above this size are refused before they are parsed.
    package static let maximumBodySize = 1 << 20

    package static let malformedBody = "请求参数格式错误"
    static let tokenHeader = HTTPField.Name("token")!
    package static let bodyTooLarge = "请求数据过大"

    let body: JSONObject
    package let query: [String: String]
    let headers: HTTPFields

    package init(body: JSONObject, query: [String: String] = [:], headers: HTTPFields = [:]) {
        self.body = body
        self.query = query
        self.headers = headers
    }

    package static func parseBody(_ bytes: [UInt8], contentType: String?) throws(APIFailure) -> JSONObject {
        let type = contentType?.lowercased() ?? ""
        let firstByte = bytes.first { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }
        if bytes.isEmpty || firstByte == nil { return JSONObject() }
        if type.hasPrefix("application/x-www-form-urlencoded") || (!type.contains("json") && firstByte != UInt8(ascii: "{")) {
            return try FormBody.parse(bytes)
        }
        do {
            guard case .object(let object) = try JSONParser.parse(bytes) else { throw APIFailure(malformedBody) }
            return object
        } catch {
            throw APIFailure(malformedBody)
        }
    }

    /// A parameter from the body, else from the query string.
    package subscript(name: String) -> JSONValue? {
        if let value = body[name] { return value }
        return query[name].map(JSONValue.string)
    }

    /// docs/api.md: the token is read from the header `token`, else the query, else the body.
    package var token: String? {
        if let header = headers[Self.tokenHeader], !header.isEmpty { return header }
        if let query = query["token"], !query.isEmpty { return query }
        if case .string(let body) = body["token"], !body.isEmpty { return body }
        return nil
    }
}

/// `application/x-www-form-urlencoded`: `a=1&b=%E4%B8%AD` (with `+` for a space).
enum FormBody {
    static func parse(_ bytes: [UInt8]) throws(APIFailure) -> JSONObject {
        var object = JSONObject()
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let key = try decode(parts[0])
            let value = parts.count > 1 ? try decode(parts[1]) : ""
            if object[key] == nil { object[key] = .string(value) }
        }
        return object
    }

    private static func decode(_ bytes: ArraySlice<UInt8>) throws(APIFailure) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                output.append(0x20)
            } else if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else {
                    throw APIFailure(RequestParameters.malformedBody)
                }
                output.append(high << 4 | low)
                index += 2
            } else {
                output.append(byte)
            }
            index += 1
        }
        guard let text = String(validating: output, as: UTF8.self) else { throw APIFailure(RequestParameters.malformedBody) }
        return text
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
