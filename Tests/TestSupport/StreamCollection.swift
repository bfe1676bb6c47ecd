import Foundation
import Model
#if canImport(Glibc)
import Glibc
#endif

/// Keeps the public streams of a Redis for the stream-contract check of `make test`
/// (docs/testing.md, *Stream contract*): before a test's own redis-server is stopped, its
/// `chat:stream:messages` and `chat:stream:entities` — every shard of them in the run's
/// layout (`testKeys`) — are written, with `redis-cli --json XRANGE`, into
/// `$CHAT_TEST_RUN/streams/`; `scripts/test.sh` then validates every entry
/// of those and of the shared Redis against `schemas/streams/`. Without
/// `CHAT_TEST_RUN` (a plain `swift test`) nothing is collected.
public enum StreamCollection {
    /// The public streams, the ones analytics read (docs/streams.md).
    public static let streams = [StreamName.messages, StreamName.entities]

    /// Their shards in the run's layout (the streams themselves when plain).
    public static var shards: [String] { streams.flatMap { testKeys.shards(of: $0) } }

    /// `$CHAT_TEST_RUN/streams`, or nil outside `make test`.
    public static var folder: URL? {
        guard let run = ProcessInfo.processInfo.environment["CHAT_TEST_RUN"], !run.isEmpty else { return nil }
        return URL(fileURLWithPath: run).appendingPathComponent("streams")
    }

    /// Writes the public streams' shards of the Redis on `port` into `folder` as
    /// `{label}.{shard}.json` (the `redis-cli --json` form: `[[id, [field, value, …]], …]`).
    /// A server whose streams a test wrote by hand is only noted (`{label}.hand-written`):
    /// such entries are the persister's test input, malformed on purpose, not the scripts'
    /// output. Returns the files written; a dump that fails leaves `{label}.error`, which
    /// the check reports as a failure.
    @discardableResult
    public static func collect(port: Int, password: String? = nil, label: String, handWritten: Bool = false, into folder: URL) -> [URL] {
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if handWritten {
            let note = folder.appendingPathComponent("\(label).hand-written")
            try? Data("streams written by a test by hand: not checked\n".utf8).write(to: note)
            return [note]
        }
        var written: [URL] = []
        for stream in shards {
            let file = folder.appendingPathComponent("\(label).\(stream).json")
            var arguments = ["-h", "127.0.0.1", "-p", "\(port)", "--json"]
            if let password { arguments += ["-a", password, "--no-auth-warning"] }
            arguments += ["XRANGE", stream, "-", "+"]
            let status: Int32?
            do {
                let child = try ChildProcess(executable: redisCLI, arguments: arguments, output: file.path)
                status = child.waitForExit(timeout: 60)
                if status == nil { child.terminate(signal: SIGKILL) }
            } catch {
                status = nil
            }
            if status.map(Executables.exitCode) != 0 || !startsAsArray(file) {
                let reason = (try? String(contentsOf: file, encoding: .utf8)).map { String($0.prefix(500)) } ?? "no output"
                try? Data("redis-cli on port \(port) could not read \(stream): \(reason)\n".utf8)
                    .write(to: folder.appendingPathComponent("\(label).error"))
                try? FileManager.default.removeItem(at: file)
                continue
            }
            written.append(file)
        }
        return written
    }

    /// redis-cli, next to the redis-server the tests use, else on the PATH.
    static var redisCLI: String {
        if let server = try? TestEnvironment.redisServerBinary() {
            let candidate = URL(fileURLWithPath: server).deletingLastPathComponent().appendingPathComponent("redis-cli").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "/usr/bin/redis-cli"
    }

    private static func startsAsArray(_ file: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: file) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 1)) == Data("[".utf8)
    }
}
