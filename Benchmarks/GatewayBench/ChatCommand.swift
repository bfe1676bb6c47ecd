import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// End-to-end single chat (scripts/bench-chat.sh): `pairs` pairs of accounts, each
/// side connected to the bridge's `/ws`; the first of a pair sends to the second, over
/// the WebSocket send frame or over `POST /api/chat/socket/sendmessage`, and a message
/// counts when it arrives on the recipient's socket.
///
/// Set-up: registers the 2 × `pairs` accounts, makes every recipient's chatset unlimited
/// (between strangers the default allows one message), writes `sender-id token
/// recipient-id` lines to `--pairs-out` (the ceiling, `redis-bench --command
/// send-single`, sends for the same pairs), connects everything, lets the welcome and
/// guidance frames pass, and prints `ready pairs=N`. Then it runs the phases stdin asks
/// for, one line each, and answers each with one `phase=…` line of `key=value`s:
///
///     ws WARMUP MEASURE WINDOW    every sender keeps WINDOW send frames unanswered
///     http WARMUP MEASURE         every HTTP connection keeps one request in flight
///     paced WARMUP MEASURE RATE   WebSocket sends at RATE messages/s in all, open loop
///
/// Seconds; only the MEASURE window counts: delivered messages per second at the
/// recipients, and the latencies (arrival − send, or − scheduled send when paced) of the
/// messages sent in it; when paced, also how late the client's own sends were (`lag_…`:
/// a busy client delays its sends, and that counts in the latency). Then the load stops
/// and the phase drains: every message answered ok must arrive exactly once (`lost`,
/// `duplicates`, `misrouted` are 0).
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "End-to-end single chat over the bridge: messages per second and latency (phases read from stdin)."
    )

    @Option(help: "Bridge address.") var host = "127.0.0.1"
    @Option(help: "Bridge port.") var port: Int
    @Option(help: "Sender → recipient pairs (2 × pairs accounts and WebSocket connections).") var pairs = 100
    @Option(help: "Username prefix (a six-digit index follows).") var prefix = "bc"
    @Option(help: "Password of every account.") var password = "bench-password"
    @Option(help: "Keep-alive HTTP connections of the http phase, each serving pairs in turn.") var httpConnections = 32
    @Option(help: "Connections for registration and settings, and handshakes in flight.") var setupConcurrency = 8
    @Option(help: "Event loop threads of the client.") var threads = 1
    @Option(help: "Processes whose CPU time is reported per phase: name=pid,name=pid (the client is added).") var cpu = ""
    @Option(help: "File for the pairs: sender-id token recipient-id, one pair per line.") var pairsOut: String?
    @Option(help: "Seconds to wait after the last connect for the welcome and guidance frames to pass.") var settle: Double = 1
    @Option(help: "Seconds a phase may take to drain once its load stopped.") var drainTimeout: Double = 15
    @Option(help: "Write each phase's messages to PREFIX<phase>-<n>.txt, one a line: microseconds from the window's start to its (scheduled) send, and its latency.")
    var latencyTrace: String?

    func validate() throws {
        guard pairs > 0, httpConnections > 0, setupConcurrency > 0, threads > 0, settle >= 0, drainTimeout > 0 else {
            throw ValidationError("counts must be positive, --settle not negative")
        }
    }

    func run() async throws {
        let probe = try CPUProbe(cpu)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let bench = try await ChatBench.setUp(self, group: group)
        emit("ready pairs=\(pairs) connections=\(2 * pairs) http_connections=\(httpConnections)")

        for await line in StandardInput.lines() {
            let words = line.split(separator: " ").map(String.init)
            guard let verb = words.first else { continue }
            if verb == "quit" { break }
            let numbers = words.dropFirst().compactMap(Double.init)
            guard numbers.count == words.count - 1, numbers.count >= 2, numbers[0] >= 0, numbers[1] > 0 else {
                throw ValidationError("phase line not understood: \(line)")
            }
            let load: ChatBench.Load
            switch (verb, numbers.count) {
            case ("ws", 3): load = .webSocket(window: Int(numbers[2]))
            case ("http", 2): load = .http
            case ("paced", 3): load = .paced(rate: numbers[2])
            default: throw ValidationError("phase line not understood: \(line)")
            }
            emit(try await bench.run(
                load, warmup: numbers[0], measure: numbers[1], probe: probe, drainTimeout: drainTimeout, trace: latencyTrace
            ))
        }
        await bench.close()
        try await group.shutdownGracefully()
    }
}

/// The connected pairs and HTTP connections, and the phases run over them.
struct ChatBench: Sendable {
    enum Load {
        case webSocket(window: Int)
        case http
        case paced(rate: Double)
    }

    let senders: [any Channel]
    let recipients: [any Channel]
    let httpChannels: [any Channel]
    let book: PhaseBook

    static func setUp(_ options: ChatCommand, group: any EventLoopGroup) async throws -> ChatBench {
        let pairs = options.pairs
        let names = (0..<(2 * pairs)).map { options.prefix + String(format: "%06d", $0) }
        progress("registering \(names.count) accounts")
        let registrar = Registrar(host: options.host, port: options.port, password: options.password, group: group)
        let accounts = try await registrar.register(names, concurrency: options.setupConcurrency)
        let senderAccounts = Array(accounts[..<pairs])
        let recipientAccounts = Array(accounts[pairs...])

        progress("making the recipients' chatsets unlimited")
        try await allowMessages(
            to: recipientAccounts, host: options.host, port: options.port, concurrency: options.setupConcurrency, group: group
        )
        if let path = options.pairsOut {
            let lines = zip(senderAccounts, recipientAccounts).map { "\($0.id) \($0.token) \($1.id)\n" }
            try Data(lines.joined().utf8).write(to: URL(fileURLWithPath: path))
        }

        progress("connecting \(2 * pairs) WebSockets")
        let book = PhaseBook()
        let sequences = (0..<pairs).map { _ in PairSequence() }
        let opener = IdleWebSocket(
            host: options.host, port: options.port, readiness: .firstFrame, expect: #""type":"system""#,
            timeout: .seconds(30), drops: DropCounter()
        )
        let sockets = try await boundedConcurrently(2 * pairs, limit: options.setupConcurrency * 8) { index in
            let pair = index % pairs
            let isSender = index < pairs
            let account = isSender ? senderAccounts[pair] : recipientAccounts[pair]
            let recipient = recipientAccounts[pair].id
            let sequence = sequences[pair]
            return try await opener.open(path: "/ws?token=\(account.token)", on: group.next()) { channel in
                if isSender {
                    try channel.pipeline.syncOperations.addHandler(ChatSender(pair: pair, recipient: recipient, sequence: sequence))
                } else {
                    try channel.pipeline.syncOperations.addHandler(ChatRecipient(pair: pair, book: book))
                }
            }.get()
        }

        let connections = options.httpConnections
        let address = "\(options.host):\(options.port)"
        let httpChannels = try await boundedConcurrently(connections, limit: options.setupConcurrency * 8) { index in
            // Connection c sends for pairs c, c + C, … (more connections than pairs: c mod N).
            let mine = connections <= pairs ? Array(stride(from: index, to: pairs, by: connections)) : [index % pairs]
            let targets = mine.map {
                ChatHTTPSender.Target(
                    pair: $0, recipient: recipientAccounts[$0].id, token: senderAccounts[$0].token, sequence: sequences[$0]
                )
            }
            return try await ClientBootstrap(group: group).connect(host: options.host, port: options.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ChatHTTPSender(host: address, targets: targets))
                    return channel
                }
            }
        }
        try await Task.sleep(for: .milliseconds(Int64(options.settle * 1000)))
        return ChatBench(
            senders: Array(sockets[..<pairs]), recipients: Array(sockets[pairs...]), httpChannels: httpChannels, book: book
        )
    }

    /// `POST /api/chat/userset`: the chatset of both roles unlimited (`sendCount` 2).
    static func allowMessages(
        to accounts: [Account], host: String, port: Int, concurrency: Int, group: any EventLoopGroup
    ) async throws {
        let userset = #"{"chatset":{"visitor":{"sendCount":2,"needFollow":false},"user":{"sendCount":2,"needFollow":false}}}"#
        let workers = min(concurrency, accounts.count)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for worker in 0..<workers {
                let mine = stride(from: worker, to: accounts.count, by: workers).map { accounts[$0] }
                tasks.addTask {
                    try await HTTPSession.with(host: host, port: port, group: group) { session in
                        for account in mine {
                            let reply = try await session.post("/api/chat/userset", json: ["userset": userset], token: account.token)
                            _ = try HTTPSession.okData(reply, what: "userset of \(account.id)")
                        }
                    }
                }
            }
            try await tasks.waitForAll()
        }
    }

    /// One phase: load, warm-up, the measurement window, stop, drain; its `phase=` line.
    /// With a `trace` prefix, also the phase's timeline in a file.
    func run(
        _ load: Load, warmup: Double, measure: Double, probe: CPUProbe, drainTimeout: Double, trace: String? = nil
    ) async throws -> String {
        let ledger = book.open(keepingSendTimes: trace != nil)
        let name: String
        var extra = ""
        switch load {
        case .webSocket(let window):
            name = "ws"
            extra = " window=\(window)"
            for channel in senders { channel.pipeline.fireUserInboundEventTriggered(ChatLoad.closedLoop(ledger, window: window)) }
        case .http:
            name = "http"
            extra = " connections=\(httpChannels.count)"
            for channel in httpChannels { channel.pipeline.fireUserInboundEventTriggered(ChatLoad.closedLoop(ledger, window: 1)) }
        case .paced(let rate):
            name = "paced"
            extra = String(format: " target_rate=%.0f", rate)
            // Each sender every N / rate seconds, the senders spread evenly over that interval.
            let interval = UInt64(Double(senders.count) / rate * 1e9)
            let first = Monotonic.now() + 10_000_000
            for (index, channel) in senders.enumerated() {
                let offset = interval * UInt64(index) / UInt64(senders.count)
                channel.pipeline.fireUserInboundEventTriggered(ChatLoad.paced(ledger, first: first + offset, interval: interval))
            }
        }
        try await Task.sleep(for: .milliseconds(Int64(warmup * 1000)))
        let cpuStart = probe.read()
        let start = Monotonic.now()
        let before = ledger.openWindow(at: start)
        try await Task.sleep(for: .milliseconds(Int64(measure * 1000)))
        let end = Monotonic.now()
        let after = ledger.closeWindow(at: end)
        let cpuEnd = probe.read()
        for channel in senders + httpChannels { channel.pipeline.fireUserInboundEventTriggered(ChatLoad.stop) }

        // Drain: every message sent is answered, every one answered ok has arrived.
        let deadline = ContinuousClock.now + .milliseconds(Int64(drainTimeout * 1000))
        var counts = ledger.counts
        while counts.accepted + counts.failed < counts.sent || counts.delivered < counts.accepted, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            counts = ledger.counts
        }
        // Late duplicates would show up here.
        try await Task.sleep(for: .milliseconds(200))
        counts = ledger.counts

        let seconds = Double(end - start) / 1e9
        let latencies = ledger.sortedLatencies()
        if let failure = counts.firstFailure { progress("\(name): first failure: \(failure.prefix(300))") }
        var line = "phase=\(name)" + extra
        line += String(format: " seconds=%.3f rate=%.0f sent_rate=%.0f", seconds,
                       Double(after.delivered - before.delivered) / seconds, Double(after.sent - before.sent) / seconds)
        line += " sent=\(counts.sent) accepted=\(counts.accepted) failed=\(counts.failed) delivered=\(counts.delivered)"
        line += " unanswered=\(counts.sent - counts.accepted - counts.failed) lost=\(counts.accepted - counts.delivered)"
        line += " duplicates=\(counts.duplicates) misrouted=\(counts.misrouted) samples=\(latencies.count)"
        line += String(format: " p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f", percentileMilliseconds(latencies, 0.5),
                       percentileMilliseconds(latencies, 0.99), percentileMilliseconds(latencies, 0.999),
                       percentileMilliseconds(latencies, 1))
        if let trace {
            let lines = ledger.timeline().map { "\($0.sent / 1000) \($0.latency / 1000)\n" }
            try Data(lines.joined().utf8).write(to: URL(fileURLWithPath: "\(trace)\(name)-\(ledger.id).txt"))
        }
        if case .paced = load {
            let lags = ledger.sortedLags()
            line += String(format: " lag_p50_ms=%.2f lag_p99_ms=%.2f", percentileMilliseconds(lags, 0.5), percentileMilliseconds(lags, 0.99))
        }
        return line + " " + probe.report(from: cpuStart, to: cpuEnd, seconds: seconds)
    }

    func close() async {
        for channel in senders + recipients + httpChannels { try? await channel.close() }
    }
}

/// `count` operations, at most `limit` at a time; their results in index order.
func boundedConcurrently<Result: Sendable>(
    _ count: Int, limit: Int, _ operation: @escaping @Sendable (Int) async throws -> Result
) async throws -> [Result] {
    var results = [Result?](repeating: nil, count: count)
    try await withThrowingTaskGroup(of: (Int, Result).self) { tasks in
        var next = 0
        while next < min(limit, count) {
            let index = next
            tasks.addTask { (index, try await operation(index)) }
            next += 1
        }
        for try await (index, result) in tasks {
            results[index] = result
            if next < count {
                let index = next
                tasks.addTask { (index, try await operation(index)) }
                next += 1
            }
        }
    }
    return results.map { $0! }
}

/// Lines of stdin, read on a thread of their own (a blocking read must not hold one of
/// the few threads of Swift's cooperative pool).
enum StandardInput {
    static func lines() -> AsyncStream<String> {
        AsyncStream { continuation in
            Thread {
                while let line = readLine() { continuation.yield(line) }
                continuation.finish()
            }.start()
        }
    }
}

/// One line on stdout, written at once: the script waits for it.
func emit(_ line: String) {
    try? FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
}

/// Progress on stderr.
func progress(_ line: String) {
    try? FileHandle.standardError.write(contentsOf: Data(("gateway-bench: " + line + "\n").utf8))
}
