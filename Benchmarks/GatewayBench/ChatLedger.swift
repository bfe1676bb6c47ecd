import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The client's clock for latencies: monotonic nanoseconds (CLOCK_MONOTONIC, as NIO's
/// timers). Send and arrival are stamped in the same process, so no clocks are compared.
enum Monotonic {
    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }
}

/// What a message carries in its `data` so that its recipient can count it once and time
/// it: `#phase:pair:sequence:stamp`, digits only (nothing a JSON writer escapes). The
/// stamp is the send time, or the scheduled send time of a paced phase.
struct Marker: Equatable {
    let phase: Int
    let pair: Int
    let sequence: Int
    let stamp: UInt64

    var text: String { "#\(phase):\(pair):\(sequence):\(stamp)" }

    /// The bytes `"data":"#` start the marker inside a delivered message object: the
    /// envelope's own `data` is an object, never a string.
    private static let prefix: [UInt8] = Array(##""data":"#"##.utf8)

    /// The marker in a server frame, if it holds one.
    init?(in frame: ByteBuffer) {
        guard let found = frame.withUnsafeReadableBytes({ bytes -> Marker? in
            guard let hit = bytes.firstOffset(of: Self.prefix) else { return nil }
            var index = hit + Self.prefix.count
            var fields: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            for field in 0..<4 {
                var value: UInt64 = 0
                var digits = 0
                while index < bytes.count, case let byte = bytes[index], byte >= 0x30, byte <= 0x39 {
                    value = value &* 10 &+ UInt64(byte - 0x30)
                    digits += 1
                    index += 1
                }
                let separator: UInt8 = field < 3 ? UInt8(ascii: ":") : UInt8(ascii: "\"")
                guard digits > 0, index < bytes.count, bytes[index] == separator else { return nil }
                index += 1
                switch field {
                case 0: fields.0 = value
                case 1: fields.1 = value
                case 2: fields.2 = value
                default: fields.3 = value
                }
            }
            return Marker(phase: Int(fields.0), pair: Int(fields.1), sequence: Int(fields.2), stamp: fields.3)
        }) else { return nil }
        self = found
    }

    init(phase: Int, pair: Int, sequence: Int, stamp: UInt64) {
        self.phase = phase
        self.pair = pair
        self.sequence = sequence
        self.stamp = stamp
    }
}

extension UnsafeRawBufferPointer {
    /// Where `needle` first occurs (memchr for its first byte, then a comparison).
    func firstOffset(of needle: [UInt8]) -> Int? {
        guard let base = baseAddress, let first = needle.first, needle.count <= count else { return nil }
        var start = 0
        while start <= count - needle.count {
            guard let hit = memchr(base + start, Int32(first), count - needle.count - start + 1) else { return nil }
            let offset = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(base + offset, needle, needle.count) == 0 { return offset }
            start = offset + 1
        }
        return nil
    }
}

/// The next sequence number of each pair's messages, shared by its WebSocket sender and
/// the HTTP connection that sends for it: a recipient counts each number once.
final class PairSequence: Sendable {
    private let next = Atomic<Int>(0)

    func take() -> Int { next.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// The counts of one phase, from every connection of the client (one lock: the client
/// has one or two event loops and the work under it is a few additions).
///
/// The measurement window is opened and closed by the runner while the load runs; a
/// message counts towards the latencies when its stamp falls inside it, so neither the
/// warm-up nor the drain after the load stopped is measured.
final class PhaseLedger: Sendable {
    struct Counts {
        var sent = 0
        var accepted = 0
        var failed = 0
        var delivered = 0
        var duplicates = 0
        var misrouted = 0
        var firstFailure: String?
    }

    let id: Int
    /// Keeps each latency's send time too (`--latency-trace`), for `timeline()`.
    private let keepsSendTimes: Bool
    private struct State {
        var counts = Counts()
        var windowStart = UInt64.max
        var windowEnd = UInt64.max
        var latencies: [UInt64] = []
        var lags: [UInt64] = []
        /// Parallel to `latencies` when `keepsSendTimes`.
        var sendTimes: [UInt64] = []
    }
    private let state = Mutex(State())

    init(id: Int, keepsSendTimes: Bool = false) {
        self.id = id
        self.keepsSendTimes = keepsSendTimes
    }

    func sent() { state.withLock { $0.counts.sent += 1 } }

    /// A paced send went out at `time`, `scheduled` for earlier: how late the client
    /// itself was (part of the latency it measures, and none of the bridge's doing).
    func sent(scheduled: UInt64, at time: UInt64) {
        state.withLock {
            $0.counts.sent += 1
            if scheduled >= $0.windowStart, scheduled < $0.windowEnd { $0.lags.append(time &- scheduled) }
        }
    }

    /// A sender's answer: an acknowledgement or an HTTP response.
    func answered(ok: Bool, failure: @autoclosure () -> String) {
        state.withLock {
            if ok {
                $0.counts.accepted += 1
            } else {
                $0.counts.failed += 1
                if $0.counts.firstFailure == nil { $0.counts.firstFailure = failure() }
            }
        }
    }

    func delivered(stamp: UInt64, at arrival: UInt64) {
        state.withLock {
            $0.counts.delivered += 1
            if stamp >= $0.windowStart, stamp < $0.windowEnd {
                $0.latencies.append(arrival &- stamp)
                if keepsSendTimes { $0.sendTimes.append(stamp &- $0.windowStart) }
            }
        }
    }

    func duplicate() { state.withLock { $0.counts.duplicates += 1 } }
    func misrouted() { state.withLock { $0.counts.misrouted += 1 } }

    var counts: Counts { state.withLock { $0.counts } }

    /// Opens the window now; returns the counts at its start.
    func openWindow(at time: UInt64) -> Counts {
        state.withLock {
            $0.windowStart = time
            return $0.counts
        }
    }

    /// Closes the window now; returns the counts at its end.
    func closeWindow(at time: UInt64) -> Counts {
        state.withLock {
            $0.windowEnd = time
            return $0.counts
        }
    }

    /// The latencies of the window's messages, sorted, in nanoseconds.
    func sortedLatencies() -> [UInt64] {
        state.withLock { $0.latencies }.sorted()
    }

    /// The window's messages as (send time after the window opened, latency), in
    /// nanoseconds, by send time: where the slow ones cluster (empty unless the ledger
    /// keeps send times).
    func timeline() -> [(sent: UInt64, latency: UInt64)] {
        state.withLock { state in zip(state.sendTimes, state.latencies).map { (sent: $0, latency: $1) } }
            .sorted { $0.sent < $1.sent }
    }

    /// The send lags of the window's paced messages, sorted, in nanoseconds.
    func sortedLags() -> [UInt64] {
        state.withLock { $0.lags }.sorted()
    }
}

/// Every phase's ledger by id: a message that arrives after its phase ended is still
/// counted by its own.
final class PhaseBook: Sendable {
    private let ledgers = Mutex<[Int: PhaseLedger]>([:])
    private let nextID = Atomic<Int>(1)

    func open(keepingSendTimes: Bool = false) -> PhaseLedger {
        let ledger = PhaseLedger(id: nextID.wrappingAdd(1, ordering: .relaxed).oldValue, keepsSendTimes: keepingSendTimes)
        ledgers.withLock { $0[ledger.id] = ledger }
        return ledger
    }

    func ledger(_ id: Int) -> PhaseLedger? { ledgers.withLock { $0[id] } }
}

/// A percentile of sorted values (nearest rank), in milliseconds.
func percentileMilliseconds(_ sorted: [UInt64], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = min(sorted.count - 1, max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1))
    return Double(sorted[rank]) / 1e6
}
