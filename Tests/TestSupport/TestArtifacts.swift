import Foundation

/// Where a test keeps what should outlive it for a look: process logs, screenshots.
/// Under `make test` that is the run's temporary folder (`CHAT_TEST_RUN`), which
/// `KEEP_TMP=1` keeps and which is removed otherwise; elsewhere the system's temporary
/// folder.
public enum TestArtifacts {
    /// A new folder `artifacts/{name}-{random}` for one test.
    public static func folder(_ name: String) throws -> URL {
        let base: URL
        if let run = ProcessInfo.processInfo.environment["CHAT_TEST_RUN"], !run.isEmpty {
            base = URL(fileURLWithPath: run).appendingPathComponent("artifacts")
        } else {
            base = FileManager.default.temporaryDirectory.appendingPathComponent("chat-test-artifacts")
        }
        let folder = base.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
