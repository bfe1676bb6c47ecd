import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import NIOWebSocket
import Synchronization

/// A group of `members` accounts, every one connected over WebSocket, alternately to two
/// bridge processes (scripts/bench-group.sh). The first member sends; a message counts
/// when it arrives on a member's socket. Messages are sent over keep-alive HTTP
/// (`POST /api/chat/socket/sendmessage`), the same way for the group and for the
/// baseline, single-chat messages from the same sender to the same members.
///
/// Phases, each printed as one `phase=…` line of `key=value`s:
///
///     latency   one group message at a time: from the send to the LAST member's arrival
///     single-burst  one single-chat message to each other member at once (`connections`
///               HTTP connections): from the first send to the last arrival
///     group     `messages` group messages, `window` in flight: deliveries per second
///     single    as many single-chat deliveries, `connections` in flight
///
/// Every delivery must arrive exactly once (`lost`, `duplicates` 0) and never to the
/// sender (`echoes` 0).
struct GroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "Group fan-out over two bridge processes vs the same deliveries as single-chat messages."
    )

    @Option(help: "Bridge address.") var host = "127.0.0.1"
    @Option(help: "The two bridges' ports, comma-separated (members alternate).") var ports: String
    @Option(help: "Members of the group, the sender included.") var members = 500
    @Option(help: "Username prefix (a six-digit index follows).") var prefix = "gb"
    @Option(help: "Password of every account.") var password = "bench-password"
    @Option(help: "Group messages of the throughput phase.") var messages = 40
    @Option(help: "Group messages in flight in the throughput phase.") var window = 4
    @Option(help: "Rounds of the latency phase (one message at a time).") var rounds = 20
    @Option(help: "HTTP connections of the single-chat phases.") var connections = 16
    @Option(help: "Connections for registration and set-up.") var setupConcurrency = 8
    @Option(help: "Event loop threads of the client.") var threads = 1
    @Option(help: "Processes whose CPU time is reported per phase: name=pid,name=pid (the client is added).") var cpu = ""
    @Option(help: "Seconds a phase may take until every delivery arrived.") var drainTimeout: Double = 60

    func validate() throws {
        guard members >= 2, messages > 0, window > 0, rounds > 0, connections > 0, setupConcurrency > 0, threads > 0 else {
            throw ValidationError("members ≥ 2, counts positive")
        }
        guard bridgePorts.count == 2 else { throw ValidationError("--ports: two ports, comma-separated") }
    }

    var bridgePorts: [Int] { ports.split(separator: ",").compactMap { Int($0) } }

    func run() async throws {
        let probe = try CPUProbe(cpu)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let bench = try await GroupBench.setUp(self, group: group)
        emit("ready members=\(members) group=\(bench.groupID)")
        emit(try await bench.latency(rounds: rounds, timeout: drainTimeout))
        emit(try await bench.singleBurst(connections: connections, timeout: drainTimeout))
        emit(try await bench.groupThroughput(messages: messages, window: window, probe: probe, timeout: drainTimeout))
        emit(try await bench.singleThroughput(messages: messages, connections: connections, probe: probe, timeout: drainTimeout))
        await bench.close()
        try await group.shutdownGracefully()
    }
}

/// Arrivals per message sequence number: how many, and when the last one came.
final class ArrivalBook: Sendable {
    struct Arrivals: Sendable {
        var count = 0
        var last: UInt64 = 0
    }

    private let book = Mutex<[Int: Arrivals]>([:])
    private let echoes = Atomic<Int>(0)

    func arrived(_ sequence: Int, at time: UInt64) {
        book.withLock { book in
            var arrivals = book[sequence] ?? Arrivals()
            arrivals.count += 1
            arrivals.last = max(arrivals.last, time)
            book[sequence] = arrivals
        }
    }

    func echoed() { echoes.add(1, ordering: .relaxed) }
    var echoCount: Int { echoes.load(ordering: .relaxed) }

    func arrivals(_ sequences: Range<Int>) -> [Arrivals] {
        book.withLock { book in sequences.map { book[$0] ?? Arrivals() } }
    }
}

/// Counts the bench's messages a member's socket receives: their `data` is `gb#{sequence}`.
final class GroupArrivalCounter: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame

    private static let marker: [UInt8] = Array(#""data":"gb#"#.utf8)
    private let book: ArrivalBook
    private let isSender: Bool

    init(book: ArrivalBook, isSender: Bool) {
        self.book = book
        self.isSender = isSender
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.opcode == .text else { return }
        let now = Monotonic.now()
        frame.unmaskedData.withUnsafeReadableBytes { bytes in
            guard let start = Self.find(Self.marker, in: bytes) else { return }
            var index = start + Self.marker.count
            var sequence = 0
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                sequence = sequence * 10 + Int(bytes[index] - 0x30)
                index += 1
            }
            if isSender { book.echoed() } else { book.arrived(sequence, at: now) }
        }
    }

    private static func find(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        outer: for start in 0...(haystack.count - needle.count) {
            for offset in 0..<needle.count where haystack[start + offset] != needle[offset] { continue outer }
            return start
        }
        return nil
    }
}

/// The connected group and the phases run over it.
final class GroupBench: Sendable {
    let options: GroupCommand
    let group: any EventLoopGroup
    let sender: Account
    let recipients: [Account]
    let groupID: Int
    let sockets: [any Channel]
    let book: ArrivalBook
    /// The next unused sequence number (each phase takes a range).
    private let nextSequence = Atomic<Int>(0)

    init(
        options: GroupCommand, group: any EventLoopGroup, sender: Account, recipients: [Account], groupID: Int,
        sockets: [any Channel], book: ArrivalBook
    ) {
        self.options = options
        self.group = group
        self.sender = sender
        self.recipients = recipients
        self.groupID = groupID
        self.sockets = sockets
        self.book = book
    }

    static func setUp(_ options: GroupCommand, group: any EventLoopGroup) async throws -> GroupBench {
        let ports = options.bridgePorts
        let names = (0..<options.members).map { options.prefix + String(format: "%06d", $0) }
        progress("registering \(names.count) accounts")
        let registrar = Registrar(host: options.host, port: ports[0], password: options.password, group: group)
        let accounts = try await registrar.register(names, concurrency: options.setupConcurrency)
        let (sender, recipients) = (accounts[0], Array(accounts.dropFirst()))
        progress("making the members' chatsets unlimited (the single-chat baseline)")
        try await ChatBench.allowMessages(
            to: recipients, host: options.host, port: ports[0], concurrency: options.setupConcurrency, group: group
        )

        progress("creating the group and letting \(recipients.count - 1) members join")
        let groupID = try await HTTPSession.with(host: options.host, port: ports[0], group: group) { session in
            _ = try HTTPSession.okData(
                try await session.post("/api/chat/autoAddFriendAndAgree", json: ["friend_id": recipients[0].id], token: sender.token),
                what: "autoAddFriendAndAgree"
            )
            let list = try HTTPSession.okData(try await session.get("/api/chat/goodfriendlist/1", token: sender.token), what: "goodfriendlist")
            guard let rows = (list as? [String: Any])?["rows"] as? [String: Any],
                  let first = ((rows["newList"] as? [[String: Any]])?.first?["list"] as? [[String: Any]])?.first,
                  let row = (first["id"] as? NSNumber)?.intValue
            else { throw HTTPFailure(description: "goodfriendlist: no row") }
            _ = try HTTPSession.okData(
                try await session.post("/api/chat/group/create", json: ["userIds": [row]], token: sender.token), what: "group/create"
            )
            let groups = try HTTPSession.okData(try await session.get("/api/chat/grouplist/1", token: sender.token), what: "grouplist")
            guard let id = ((groups as? [[String: Any]])?.first?["id"] as? NSNumber)?.intValue else {
                throw HTTPFailure(description: "grouplist: no group")
            }
            return id
        }
        let joiners = Array(recipients.dropFirst())
        let workers = min(options.setupConcurrency, joiners.count)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for worker in 0..<workers {
                let mine = stride(from: worker, to: joiners.count, by: workers).map { joiners[$0] }
                tasks.addTask {
                    try await HTTPSession.with(host: options.host, port: ports[0], group: group) { session in
                        for account in mine {
                            let reply = try await session.post(
                                "/api/chat/groupInviteUser", json: ["group_id": groupID, "user_id": account.id], token: account.token
                            )
                            _ = try HTTPSession.okData(reply, what: "groupInviteUser of \(account.id)")
                        }
                    }
                }
            }
            try await tasks.waitForAll()
        }

        progress("connecting \(accounts.count) WebSockets over two processes")
        let book = ArrivalBook()
        let sockets = try await boundedConcurrently(accounts.count, limit: options.setupConcurrency * 8) { index in
            let opener = IdleWebSocket(
                // The first frame: the welcome, or a queued join notice before it (not a refusal).
                host: options.host, port: ports[index % 2], readiness: .firstFrame, expect: #""type":""#,
                timeout: .seconds(30), drops: DropCounter()
            )
            return try await opener.open(path: "/ws?token=\(accounts[index].token)", on: group.next()) { channel in
                try channel.pipeline.syncOperations.addHandler(GroupArrivalCounter(book: book, isSender: index == 0))
            }.get()
        }
        // The queued join notices (member k has those of the members after it), the welcome
        // and the guidance pass.
        try await Task.sleep(for: .seconds(3))
        return GroupBench(
            options: options, group: group, sender: sender, recipients: recipients, groupID: groupID, sockets: sockets, book: book
        )
    }

    private func sequences(_ count: Int) -> Range<Int> {
        let start = nextSequence.add(count, ordering: .relaxed).oldValue
        return start..<(start + count)
    }

    private func body(to recipient: Int, chatType: String, sequence: Int) -> [String: Any] {
        ["sendto_id": recipient, "chatType": chatType, "type": "text", "data": "gb#\(sequence)"]
    }

    /// Waits until each sequence has `expected` arrivals (or the timeout); their arrivals.
    private func drain(_ sequences: Range<Int>, expected: Int, timeout: Double) async throws -> [ArrivalBook.Arrivals] {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        var arrivals = book.arrivals(sequences)
        while arrivals.contains(where: { $0.count < expected }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
            arrivals = book.arrivals(sequences)
        }
        try await Task.sleep(for: .milliseconds(200))  // late duplicates would show
        return book.arrivals(sequences)
    }

    private func tally(_ arrivals: [ArrivalBook.Arrivals], expected: Int) -> String {
        let lost = arrivals.reduce(0) { $0 + max(0, expected - $1.count) }
        let duplicates = arrivals.reduce(0) { $0 + max(0, $1.count - expected) }
        return " lost=\(lost) duplicates=\(duplicates) echoes=\(book.echoCount)"
    }

    /// One group message at a time: send → last member's arrival.
    func latency(rounds: Int, timeout: Double) async throws -> String {
        let range = sequences(rounds)
        var times: [Double] = []
        var all: [ArrivalBook.Arrivals] = []
        try await HTTPSession.with(host: options.host, port: options.bridgePorts[0], group: group) { session in
            for sequence in range {
                let start = Monotonic.now()
                _ = try HTTPSession.okData(
                    try await session.post("/api/chat/socket/sendmessage", json: body(to: groupID, chatType: "group", sequence: sequence), token: sender.token),
                    what: "group send"
                )
                let arrivals = try await drain(sequence..<(sequence + 1), expected: recipients.count, timeout: timeout)
                all += arrivals
                times.append(Double((arrivals[0].last > start ? arrivals[0].last : start) - start) / 1e6)
            }
        }
        times.sort()
        return "phase=latency rounds=\(rounds) recipients=\(recipients.count)"
            + String(format: " last_p50_ms=%.2f last_max_ms=%.2f last_min_ms=%.2f", times[times.count / 2], times.last ?? 0, times.first ?? 0)
            + tally(all, expected: recipients.count)
    }

    /// One single-chat message to every other member at once: first send → last arrival.
    func singleBurst(connections: Int, timeout: Double) async throws -> String {
        let range = sequences(recipients.count)
        let start = Monotonic.now()
        try await sendSingles(range.map { ($0, recipients[$0 - range.lowerBound].id) }, connections: connections)
        let arrivals = try await drain(range, expected: 1, timeout: timeout)
        let last = arrivals.map(\.last).max() ?? start
        return "phase=single-burst messages=\(recipients.count) connections=\(connections)"
            + String(format: " last_ms=%.2f", Double(last - start) / 1e6) + tally(arrivals, expected: 1)
    }

    /// `messages` group messages, `window` in flight: member deliveries per second.
    func groupThroughput(messages: Int, window: Int, probe: CPUProbe, timeout: Double) async throws -> String {
        let range = sequences(messages)
        let cpuStart = probe.read()
        let start = Monotonic.now()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for lane in 0..<min(window, messages) {
                let mine = Array(stride(from: range.lowerBound + lane, to: range.upperBound, by: window))
                tasks.addTask { [self] in
                    try await HTTPSession.with(host: options.host, port: options.bridgePorts[lane % 2], group: group) { session in
                        for sequence in mine {
                            _ = try HTTPSession.okData(
                                try await session.post(
                                    "/api/chat/socket/sendmessage", json: body(to: groupID, chatType: "group", sequence: sequence),
                                    token: sender.token
                                ),
                                what: "group send"
                            )
                        }
                    }
                }
            }
            try await tasks.waitForAll()
        }
        let arrivals = try await drain(range, expected: recipients.count, timeout: timeout)
        let cpuEnd = probe.read()
        let seconds = Double((arrivals.map(\.last).max() ?? start) - start) / 1e9
        let deliveries = arrivals.reduce(0) { $0 + $1.count }
        return "phase=group messages=\(messages) window=\(window) deliveries=\(deliveries)"
            + String(format: " seconds=%.3f rate=%.0f", seconds, Double(deliveries) / seconds) + tally(arrivals, expected: recipients.count)
            + " " + probe.report(from: cpuStart, to: cpuEnd, seconds: seconds)
    }

    /// The same number of deliveries as single-chat messages, `connections` in flight.
    func singleThroughput(messages: Int, connections: Int, probe: CPUProbe, timeout: Double) async throws -> String {
        let range = sequences(messages * recipients.count)
        let cpuStart = probe.read()
        let start = Monotonic.now()
        try await sendSingles(range.map { ($0, recipients[($0 - range.lowerBound) % recipients.count].id) }, connections: connections)
        let arrivals = try await drain(range, expected: 1, timeout: timeout)
        let cpuEnd = probe.read()
        let seconds = Double((arrivals.map(\.last).max() ?? start) - start) / 1e9
        let deliveries = arrivals.reduce(0) { $0 + $1.count }
        return "phase=single messages=\(range.count) connections=\(connections) deliveries=\(deliveries)"
            + String(format: " seconds=%.3f rate=%.0f", seconds, Double(deliveries) / seconds) + tally(arrivals, expected: 1)
            + " " + probe.report(from: cpuStart, to: cpuEnd, seconds: seconds)
    }

    /// Single-chat sends `(sequence, recipient)` over `connections` keep-alive connections
    /// (alternating processes), each one request after the other.
    private func sendSingles(_ sends: [(Int, Int)], connections: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for lane in 0..<min(connections, sends.count) {
                let mine = stride(from: lane, to: sends.count, by: connections).map { sends[$0] }
                tasks.addTask { [self] in
                    try await HTTPSession.with(host: options.host, port: options.bridgePorts[lane % 2], group: group) { session in
                        for (sequence, recipient) in mine {
                            _ = try HTTPSession.okData(
                                try await session.post(
                                    "/api/chat/socket/sendmessage", json: body(to: recipient, chatType: "single", sequence: sequence),
                                    token: sender.token
                                ),
                                what: "single send"
                            )
                        }
                    }
                }
            }
            try await tasks.waitForAll()
        }
    }

    func close() async {
        for channel in sockets { try? await channel.close() }
    }
}
