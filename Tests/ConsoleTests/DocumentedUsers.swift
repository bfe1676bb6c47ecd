import Foundation
import RedisClient
import TestSupport

/// The Redis users of docs/operations.md (*Redis ACL*), installed as written on a test's
/// own Redis, so that the bridges, the persister and the console (pages, JSON API and
/// `console admin`) run as they are deployed: a command a page or a script needs that
/// its user's rule lacks fails the test that uses it.
enum DocumentedUsers {
    static let operations = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/operations.md")

    /// Runs the block's `ACL SETUSER` lines (each password replaced by a test one) on
    /// `server`; the URL of each user.
    static func install(on server: RedisServerProcess, using redis: RedisClient) async throws -> [String: String] {
        let text = try String(contentsOf: operations, encoding: .utf8)
        var urls: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("ACL SETUSER ") {
            let words = line.split(separator: " ").map(String.init)
            let user = words[2]
            let password = "test-\(user)-password"
            let command = words.map { $0.hasPrefix(">") ? ">" + password : $0 }
            try await redis.send(RedisCommand(command[0], command.dropFirst().map { $0 as any RedisArgument })).throwingOnError()
            urls[user] = "redis://\(user):\(password)@127.0.0.1:\(server.port)/0"
        }
        for user in ["bridge", "persister", "console"] where urls[user] == nil {
            throw TestEnvironment.Missing(description: "docs/operations.md has no ACL SETUSER line for \(user)")
        }
        return urls
    }

    /// The commands Redis refused, by user (`ACL LOG`).
    static func refusals(_ redis: RedisClient) async throws -> [[String: String]] {
        (try await redis.send("ACL", "LOG", "1000").array ?? []).map(\.fieldValues)
    }
}
