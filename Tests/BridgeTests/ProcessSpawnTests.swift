import Foundation
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// What a spawned program (ffmpeg, in the bridge) inherits from the process.
@Suite("Spawning programs", .offCooperativePool)
struct ProcessSpawnTests {
    /// Found when a test's WebSocket close never reached the bridge: a server the test
    /// process had just spawned held the socket open (NIO does not create every socket
    /// close-on-exec). In the bridge, an ffmpeg would hold clients' sockets the same way.
    @Test("a child inherits stdin, stdout and stderr, and no other descriptor")
    func onlyTheStandardDescriptors() async throws {
        var pipe: [Int32] = [0, 0]
        try #require(Glibc.pipe(&pipe) == 0)  // without O_CLOEXEC
        defer { pipe.forEach { close($0) } }
        try #require(fcntl(pipe[0], F_GETFD) & FD_CLOEXEC == 0)

        let output = FileManager.default.temporaryDirectory.appendingPathComponent("fds-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let outcome = try await TimeLimitedProcess(
            executable: "/bin/sh", arguments: ["-c", "ls /proc/$$/fd"], timeLimit: .seconds(10), output: output
        ).run()
        #expect(outcome == .exited(0))
        let descriptors = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").compactMap { Int32($0) }.sorted()
        #expect(descriptors == [0, 1, 2], "the pipe is \(pipe)")
    }
}
