import Foundation
import Hummingbird
import Model
import NIOCore

/// The fields of a POST: an HTML form (`application/x-www-form-urlencoded`) or a JSON
/// object (the JSON API); JSON numbers and booleans are kept as their text.
struct RequestInput: Sendable {
    private(set) var values: [String: String] = [:]
    /// True when the body was JSON (the JSON API), which decides how answers look.
    private(set) var isJSON = false

    static let maximumBodyBytes = 64 * 1024

    init(values: [String: String] = [:]) {
        self.values = values
    }

    subscript(name: String) -> String? { values[name] }

    /// The field with surrounding white space removed; nil when absent or empty.
    func trimmed(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    static func read(from request: inout Request) async throws -> RequestInput {
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: maximumBodyBytes) } catch { throw ConsoleFailure.invalid("请求内容过大或无法读取") }
        let bytes = Array(buffer: body)
        let type = request.headers[.contentType]?.lowercased() ?? ""
        if type.hasPrefix("application/json") {
            return try json(bytes)
        }
        return form(String(decoding: bytes, as: UTF8.self))
    }

    static func form(_ text: String) -> RequestInput {
        var input = RequestInput()
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]) else { continue }
            let value = parts.count > 1 ? decode(parts[1]) ?? "" : ""
            if input.values[name] == nil { input.values[name] = value }
        }
        return input
    }

    private static func decode(_ component: Substring) -> String? {
        component.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    static func json(_ bytes: [UInt8]) throws -> RequestInput {
        var input = RequestInput()
        input.isJSON = true
        guard !bytes.isEmpty else { return input }
        guard case .object(let object) = try? JSONParser.parse(bytes) else { throw ConsoleFailure.invalid("请求内容不是 JSON 对象") }
        for (key, value) in object.members {
            switch value {
            case .string(let text): input.values[key] = text
            case .integer(let number): input.values[key] = String(number)
            case .double(let number): input.values[key] = String(number)
            case .bool(let flag): input.values[key] = flag ? "1" : "0"
            default: continue
            }
        }
        return input
    }
}
