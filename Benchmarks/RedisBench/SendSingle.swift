import ChatScripts
import Foundation
import Model
import NIOCore
import RedisClient
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The ceiling of the chat benchmark (scripts/bench-chat.sh): `lua/message_send_single.lua`
/// driven straight at Redis, pipelined, for the pairs the end-to-end client connected —
/// with the contract (`SendSingleMessage`) `MessageSender` builds for a WebSocket send
/// frame (the sender's token to check, a client id), so Redis does exactly the work it
/// does for one of the bridge's sends. The recipients are connected to the bridge while
/// this runs: their `online_{id}` names the bridge's node, which is passed as the
/// caller's node, so the script takes the `local` route as it does end to end (the
/// bridge's push is then the only thing the ceiling leaves out).
struct SendSingleWorkload: Sendable {
    struct Pair: Sendable {
        let sender: Int
        let token: String
        let recipient: Int
    }

    /// The values the bridge passes; its defaults unless the script set others.
    struct Policy: Sendable {
        var historyCap = 1000
        var streamCap = StreamName.defaultHardCap
        var clientIDWindowSeconds = 300
        var deadAfterMilliseconds = 15000
        var offlineQueueCap = 5000
    }

    let sha: String
    let pairs: [Pair]
    let node: String
    let policy: Policy
    let settings: SendSettings
    /// Client ids `r{pid}-{n}`: never one the end-to-end client (`w…`) or another run used.
    private let clientIDPrefix = "r\(getpid())-"

    /// Reads `sender-id token recipient-id` lines and the bridge's node from the first
    /// recipient's `online_{id}` (every recipient must be online on that node).
    static func load(pairsFile: String, sha: String, policy: Policy, redis: RedisClient) async throws -> SendSingleWorkload {
        let text = try String(contentsOfFile: pairsFile, encoding: .utf8)
        let pairs = try text.split(whereSeparator: \.isNewline).map { line -> Pair in
            let fields = line.split(separator: " ")
            guard fields.count == 3, let sender = Int(fields[0]), let recipient = Int(fields[2]) else {
                throw BenchFailure("\(pairsFile): not 'sender-id token recipient-id': \(line.prefix(80))")
            }
            return Pair(sender: sender, token: String(fields[1]), recipient: recipient)
        }
        guard !pairs.isEmpty else { throw BenchFailure("\(pairsFile): no pairs") }
        var nodes = Set<String>()
        for pair in pairs {
            guard let target = try await redis.send("GET", RedisKeys.online(pair.recipient)).string,
                  let node = target.split(separator: ":").first
            else { throw BenchFailure("recipient \(pair.recipient) is not online: connect the pairs first") }
            nodes.insert(String(node))
        }
        guard nodes.count == 1, let node = nodes.first else { throw BenchFailure("recipients online on several nodes: \(nodes)") }
        return SendSingleWorkload(
            sha: sha, pairs: pairs, node: node, policy: policy,
            settings: SendSettings(
                clientIDWindow: Int64(policy.clientIDWindowSeconds), historyCap: policy.historyCap,
                streamCap: policy.streamCap, node: node, deadAfter: Int64(policy.deadAfterMilliseconds),
                queueCap: policy.offlineQueueCap, queueByteCap: 16 << 20
            )
        )
    }

    /// `EVALSHA` of the send script for the `number`th message (pairs in turn), as
    /// `MessageSender` builds it for a WebSocket send frame.
    func command(_ number: Int) -> RedisCommand {
        call(number).command("EVALSHA", sha)
    }

    /// The send of the `number`th message, as the bridge's contract.
    func call(_ number: Int) -> SendSingleMessage {
        let pair = pairs[number % pairs.count]
        // `data` as the bridge stores a string: its JSON text, the size of the client's marker.
        let data = "\"#0:\(number % pairs.count):\(number):\(1_000_000_000_000 + number)\""
        return SendSingleMessage(
            messageID: UUID().uuidString.lowercased(), sender: pair.sender, recipient: pair.recipient, type: "text",
            data: Array(data.utf8), options: Array("null".utf8), uncheckedToken: pair.token,
            clientID: clientIDPrefix + String(number), isAutoReply: false, settings: settings
        )
    }
}

/// The numbers of the messages, shared by the clients: each message is another pair's
/// turn and has a client id of its own.
final class MessageNumbers: Sendable {
    private let next = Atomic<Int>(0)

    /// The first of `count` numbers no other caller gets.
    func take(_ count: Int) -> Int { next.wrappingAdd(count, ordering: .relaxed).oldValue }
}

/// What the replies said: the route of each accepted message, refusals and errors.
struct SendTally: Sendable {
    var local = 0
    var other = 0
    var refused = 0
    var firstProblem: String?
    /// Replies that arrived inside the measurement window.
    var measured = 0
    /// Cores used in the window (set by the task that reads them).
    var cpu: (redis: Double?, client: Double?, machine: Double?) = (nil, nil, nil)

    mutating func count(_ reply: RedisReply) {
        switch try? SendSingleMessage.decode(RedisFlatReply(reply)) {
        case .accepted(_, .local, _):
            local += 1
        case .accepted(_, let route, _):
            other += 1
            if firstProblem == nil { firstProblem = "route \(route)" }
        case .duplicate:
            other += 1
            if firstProblem == nil { firstProblem = "route duplicate" }
        case .refused, nil:
            refused += 1
            if firstProblem == nil { firstProblem = "\(reply)" }
        }
    }

    mutating func add(_ other: SendTally) {
        local += other.local
        self.other += other.other
        refused += other.refused
        firstProblem = firstProblem ?? other.firstProblem
        if other.cpu.machine != nil { cpu = other.cpu }
    }
}

/// Seconds of CPU (user + system) a process has used so far (Linux `/proc/PID/stat`).
func cpuSeconds(of pid: Int32) -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")")
    else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Busy seconds of all cores so far (/proc/stat: all but idle and iowait): with the
/// processes' own, it tells how much other work disturbed a run.
func machineBusySeconds() -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
          let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
    else { return nil }
    let values = line.split(separator: " ").dropFirst().prefix(8).compactMap { Double($0) }
    guard values.count == 8 else { return nil }
    return (values.reduce(0, +) - values[3] - values[4]) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
