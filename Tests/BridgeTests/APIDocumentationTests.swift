import Foundation
import HTTPTypes
import RedisClient
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI

/// docs/api.md documents every route the bridge registers, under a heading
/// `### METHOD /path` with the path exactly as registered, and names no other.
@Suite("docs/api.md lists every registered route")
struct APIDocumentationTests {
    typealias Route = RouteRecorder<BridgeRequestContext>.Route

    static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    @Test("every registered route has its heading, and every heading names a registered route")
    func headingsMatchTheRouter() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let recorder = RouteRecorder<BridgeRequestContext>()
        BridgeApplication.registerRoutes(await TestBridge.dependencies(redis: redis), on: recorder)
        let registered = recorder.routes
        #expect(registered.count > 50, "the recorder saw only \(registered.count) routes")

        let headings = try Self.headings()
        let repeated = Dictionary(grouping: headings, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        #expect(repeated.isEmpty, "headings in docs/api.md more than once:\n\(Self.list(repeated))")

        let missing = Set(registered).subtracting(headings).sorted()
        #expect(missing.isEmpty, "registered routes without a `### METHOD /path` heading in docs/api.md:\n\(Self.list(missing))")
        let unknown = Set(headings).subtracting(registered).sorted()
        #expect(unknown.isEmpty, "headings in docs/api.md that name no registered route:\n\(Self.list(unknown))")
    }

    /// The `### METHOD /path` headings of docs/api.md, in order.
    static func headings() throws -> [Route] {
        let text = try String(contentsOf: apiDocument, encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line -> Route? in
            guard line.hasPrefix("### ") else { return nil }
            let words = line.dropFirst(4).split(separator: " ", omittingEmptySubsequences: false)
            guard words.count == 2, methods.contains(String(words[0])), words[1].hasPrefix("/") else { return nil }
            return Route(method: HTTPRequest.Method(rawValue: String(words[0]))!, path: String(words[1]))
        }
    }

    /// docs/api.md of this checkout (this file is Tests/BridgeTests/…).
    static let apiDocument = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/api.md")

    private static func list(_ routes: [some CustomStringConvertible]) -> String {
        routes.map { "  \($0)" }.joined(separator: "\n")
    }
}
