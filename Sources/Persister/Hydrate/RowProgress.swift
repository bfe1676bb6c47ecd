#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ChatRuntime
import Logging

/// Rows done of a known total, the rate and the time left, for the long commands
/// (`persister hydrate`, `persister verify`). On a terminal one line on standard error is
/// rewritten at most every 200 ms; otherwise (a log, a pipe) a log line every
/// `logInterval`, so an operator tailing a file still sees it move.
final class RowProgress: @unchecked Sendable {
    let total: Int
    private(set) var done = 0
    private let label: String
    private let logger: Logger
    private let toTerminal: Bool
    private let logInterval: Duration
    private let start = ContinuousClock.now
    private var lastShown = ContinuousClock.now
    private var shownOnTerminal = false

    init(label: String, total: Int, logger: Logger, toTerminal: Bool = isatty(STDERR_FILENO) == 1, logInterval: Duration = .seconds(5)) {
        self.label = label
        self.total = total
        self.logger = logger
        self.toTerminal = toTerminal
        self.logInterval = logInterval
    }

    /// Adds `rows` and shows the state when it is due.
    func advance(by rows: Int, entity: String) {
        done += rows
        let now = ContinuousClock.now
        if now - lastShown >= (toTerminal ? .milliseconds(200) : logInterval) {
            lastShown = now
            show(entity: entity)
        }
    }

    /// The final state (a newline after the terminal line).
    func finish() {
        guard toTerminal else {
            logger.info("\(label) done", metadata: metadata(entity: nil))
            return
        }
        show(entity: nil)
        if shownOnTerminal { writeStandardErrorLine("") }
    }

    var rowsPerSecond: Double {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return seconds > 0 ? Double(done) / seconds : 0
    }

    /// "123456/480000 rows (25.7%), 40211 rows/s, 9 s left".
    var line: String {
        let rate = rowsPerSecond
        let percent = total > 0 ? Double(done) * 100 / Double(total) : 100
        let left = rate > 0 ? Int((Double(max(0, total - done)) / rate).rounded(.up)) : 0
        return "\(done)/\(total) rows (\(Self.format(percent, digits: 1))%), \(Int(rate)) rows/s, \(left) s left"
    }

    private func show(entity: String?) {
        if toTerminal {
            shownOnTerminal = true
            let text = "\r\(label): \(line)\(entity.map { " [\($0)]" } ?? "")\u{1B}[K"
            writeStandardErrorLine(text, newline: false)
        } else {
            logger.info("\(label) progress", metadata: metadata(entity: entity))
        }
    }

    private func metadata(entity: String?) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["progress": "\(line)", "done": "\(done)", "total": "\(total)"]
        if let entity { metadata["entity"] = "\(entity)" }
        return metadata
    }

    static func format(_ value: Double, digits: Int) -> String {
        let scale = pow(10, Double(digits))
        let rounded = (value * scale).rounded() / scale
        return String(rounded)
    }

    private func writeStandardErrorLine(_ text: String, newline: Bool = true) {
        writeStandardError(text + (newline ? "\n" : ""))
    }
}
