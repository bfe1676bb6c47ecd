import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import NIOWebSocket
import Synchronization

/// The receiving side of an HTTP load another program generates (scripts/bench-gateway.sh
/// drives `wrk` at the bridge's `socket/sendmessage` and at nchan's publisher): `pairs`
/// WebSocket receivers, connected and counting the data frames they get.
///
/// Against the bridge (`--bridge`): registers 2 × `pairs` accounts, makes every
/// recipient's chatset unlimited, writes `sender-id sender-token recipient-id` lines to
/// `--pairs-out` and connects the recipients. Against nchan: connects `--path` with `{i}`
/// the pair's index. Prints `ready pairs=N`; then each `count` line on stdin is answered
/// with `frames=N` (data frames received since the connections were ready: welcome and
/// guidance excluded), and EOF or `quit` closes everything.
struct ListenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Hold WebSocket receivers for an HTTP load from another program and count what they get."
    )

    @Option(help: "Server address.") var host = "127.0.0.1"
    @Option(help: "Server port.") var port: Int
    @Option(help: "Receivers (and, with --bridge, senders).") var pairs = 50
    @Flag(help: "The server is the bridge: register the pairs and connect the recipients with their tokens.") var bridge = false
    @Option(help: "Without --bridge: the subscriber path, {i} the pair's index.") var path = "/sub/c{i}"
    @Option(help: "With --bridge: username prefix (a six-digit index follows).") var prefix = "wk"
    @Option(help: "With --bridge: file for the pairs, sender-id sender-token recipient-id per line.") var pairsOut: String?
    @Option(help: "Connections for registration and settings, and handshakes in flight.") var setupConcurrency = 8
    @Option(help: "Seconds to wait after the last connect for the welcome and guidance frames to pass.") var settle: Double = 1

    func validate() throws {
        guard pairs > 0, setupConcurrency > 0, settle >= 0 else { throw ValidationError("counts must be positive") }
        if bridge, pairsOut == nil { throw ValidationError("--bridge needs --pairs-out FILE") }
    }

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let counter = FrameCounter()
        let paths: [String]
        if bridge {
            let names = (0..<(2 * pairs)).map { prefix + String(format: "%06d", $0) }
            progress("registering \(names.count) accounts")
            let accounts = try await Registrar(host: host, port: port, password: "bench-password", group: group)
                .register(names, concurrency: setupConcurrency)
            let senders = Array(accounts[..<pairs])
            let recipients = Array(accounts[pairs...])
            try await ChatBench.allowMessages(to: recipients, host: host, port: port, concurrency: setupConcurrency, group: group)
            let lines = zip(senders, recipients).map { "\($0.id) \($0.token) \($1.id)\n" }
            try Data(lines.joined().utf8).write(to: URL(fileURLWithPath: pairsOut!))
            paths = recipients.map { "/ws?token=\($0.token)" }
        } else {
            paths = (0..<pairs).map { path.replacingOccurrences(of: "{i}", with: String($0)) }
        }
        let opener = IdleWebSocket(
            host: host, port: port, readiness: bridge ? .firstFrame : .upgrade, expect: bridge ? #""type":"system""# : nil,
            timeout: .seconds(30), drops: DropCounter()
        )
        let sockets = try await boundedConcurrently(paths.count, limit: setupConcurrency * 8) { index in
            try await opener.open(path: paths[index], on: group.next()) { channel in
                try channel.pipeline.syncOperations.addHandler(FrameCountingHandler(counter: counter))
            }.get()
        }
        try await Task.sleep(for: .milliseconds(Int64(settle * 1000)))
        let base = counter.value
        emit("ready pairs=\(pairs)")
        for await line in StandardInput.lines() {
            if line == "quit" { break }
            if line == "count" { emit("frames=\(counter.value - base)") }
        }
        for channel in sockets { try? await channel.close() }
        try await group.shutdownGracefully()
    }
}

/// Data frames received by all of the receivers.
final class FrameCounter: Sendable {
    private let count = Atomic<Int>(0)

    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// Counts each data frame `IdleWebSocket` forwards.
private final class FrameCountingHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame

    let counter: FrameCounter

    init(counter: FrameCounter) { self.counter = counter }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        counter.increment()
    }
}
