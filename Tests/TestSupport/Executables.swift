import Foundation

/// The package's built executables, found next to the test bundle that is running.
public enum Executables {
    public static func path(of name: String) throws -> String {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidate = directory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            throw TestEnvironment.Missing(description: "\(candidate) is not built: run `swift build` before the tests")
        }
        return candidate
    }

    /// Runs an executable to completion; returns its exit status and combined output.
    public static func run(
        _ name: String, arguments: [String], environment: [String: String] = [:], timeout: Double = 30
    ) throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("exec-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        merged = withTestLayout(merged)
        let child = try ChildProcess(executable: try path(of: name), arguments: arguments, environment: merged, output: log.path)
        guard let status = child.waitForExit(timeout: timeout) else {
            child.terminate(signal: SIGKILL)
            throw TestEnvironment.Missing(description: "\(name) did not exit within \(timeout) s")
        }
        return (exitCode(status), (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    /// WEXITSTATUS, or 128 + signal for a process killed by a signal.
    public static func exitCode(_ status: Int32) -> Int32 {
        (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }
}
