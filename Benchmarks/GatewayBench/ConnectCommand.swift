import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// Opens `connections` idle WebSocket connections, at most `concurrency` handshakes at a
/// time, holds them open for `hold` seconds (so that the caller can read the server's
/// memory), then closes them. Prints `key=value` lines on stdout:
///
///     accepted=10000 failed=0 seconds=1.234 rate=8103 tokens=10000
///     held=10000 dropped=0
///     closed=10000
///
/// `seconds` runs from the first connect to the last acceptance. Exits 1 when a
/// connection failed or was dropped during the hold.
struct ConnectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Open idle WebSocket connections and report accepts per second."
    )

    @Option(help: "Server address.") var host = "127.0.0.1"
    @Option(help: "Server port.") var port: Int
    @Option(help: "Request path. {token} becomes a line of --tokens (connection i takes line i mod lines), {i} the connection's index.")
    var path = "/ws?token={token}"
    @Option(help: "File with one token per line, for {token}.") var tokens: String?
    @Option(help: "Connections to open.") var connections = 10_000
    @Option(help: "Handshakes in flight at once.") var concurrency = 200
    @Option(help: "When a connection counts as accepted: first-frame (the bridge's welcome) or upgrade (101, for a server that sends nothing).")
    var ready: Readiness = .firstFrame
    @Option(help: "With first-frame: text the first frame must contain, or the connection fails (the bridge's refusals are frames too).")
    var expect: String?
    @Option(help: "Seconds to keep the connections open once all are accepted.") var hold: Double = 0
    @Option(help: "Seconds one connection may take from connect to acceptance.") var timeout: Double = 10
    @Option(help: "Event loop threads of the client (one leaves the other core to the server).") var threads = 1

    func validate() throws {
        guard connections > 0, concurrency > 0, threads > 0, timeout > 0, hold >= 0 else {
            throw ValidationError("--connections, --concurrency, --threads and --timeout must be positive, --hold not negative")
        }
        if path.contains("{token}"), tokens == nil { throw ValidationError("--path uses {token}: give --tokens FILE") }
    }

    func run() async throws {
        let lines = try tokenLines()
        if path.contains("{token}"), lines.isEmpty { throw ValidationError("no tokens in \(tokens ?? "")") }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let drops = DropCounter()
        let opener = IdleWebSocket(
            host: host, port: port, readiness: ready, expect: expect, timeout: .milliseconds(Int64(timeout * 1000)), drops: drops
        )
        let template = path
        let total = connections
        func request(_ index: Int) -> String {
            let uri = template.replacingOccurrences(of: "{i}", with: String(index))
            return lines.isEmpty ? uri : uri.replacingOccurrences(of: "{token}", with: lines[index % lines.count])
        }

        let clock = ContinuousClock()
        let start = clock.now
        var lastAccepted = start
        var open: [any Channel] = []
        open.reserveCapacity(total)
        var failures: [String: Int] = [:]
        await withTaskGroup(of: Result<any Channel, any Error>.self) { tasks in
            var next = 0
            func launch() {
                let uri = request(next)
                let loop = group.next()
                tasks.addTask {
                    do { return .success(try await opener.open(path: uri, on: loop).get()) } catch { return .failure(error) }
                }
                next += 1
            }
            while next < min(concurrency, total) { launch() }
            while let result = await tasks.next() {
                switch result {
                case .success(let channel):
                    open.append(channel)
                    lastAccepted = clock.now
                case .failure(let error):
                    failures["\(error)", default: 0] += 1
                }
                if next < total { launch() }
            }
        }
        let seconds = (lastAccepted - start).seconds
        let failed = failures.values.reduce(0, +)
        let tokenInfo = path.contains("{token}") ? " tokens=\(lines.count)" : ""
        emit(String(format: "accepted=%d failed=%d seconds=%.3f rate=%.0f", open.count, failed, seconds, Double(open.count) / max(seconds, 1e-9)) + tokenInfo)
        for (reason, count) in failures.sorted(by: { $0.value > $1.value }).prefix(5) {
            try? FileHandle.standardError.write(contentsOf: Data("gateway-bench: \(count) failed: \(reason)\n".utf8))
        }

        var dropped = 0
        if hold > 0 {
            try await Task.sleep(for: .milliseconds(Int64(hold * 1000)))
            dropped = drops.value
            emit("held=\(open.count - dropped) dropped=\(dropped)")
        }
        // Closed by us: channelInactive counts them as drops from here on, unread.
        let closes = open.map { $0.close() }
        try? await EventLoopFuture.andAllComplete(closes, on: group.next()).get()
        emit("closed=\(open.count)")
        try await group.shutdownGracefully()
        if failed > 0 || dropped > 0 { throw ExitCode(1) }
    }

    private func tokenLines() throws -> [String] {
        guard let tokens else { return [] }
        let text = try String(contentsOfFile: tokens, encoding: .utf8)
        return text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
    }

    /// One line on stdout, written at once (not buffered): the script reads it while we
    /// hold. A reader that has gone away (`| head -1`) is no reason to stop.
    private func emit(_ line: String) {
        try? FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
