import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// CPU time of named processes from `/proc/PID/stat` (Linux): read at the edges of a
/// measurement window, it tells on a 2-core machine which process used the cores. The
/// machine's busy time (`/proc/stat`) is read too: what neither of them used went to
/// other work on the machine (`cpu_other`), which tells a disturbed run.
struct CPUProbe: Sendable {
    /// Name and pid; the client itself is added as `client`.
    let processes: [(name: String, pid: Int32)]

    /// `name=pid,name=pid`.
    init(_ list: String) throws {
        var processes: [(name: String, pid: Int32)] = []
        for item in list.split(separator: ",") where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let pid = Int32(parts[1]) else { throw HTTPFailure(description: "--cpu: not name=pid: \(item)") }
            processes.append((String(parts[0]), pid))
        }
        processes.append(("client", getpid()))
        self.processes = processes
    }

    /// Seconds of CPU (user + system) each process has used so far, nil for one that is
    /// gone; then the machine's busy seconds.
    func read() -> [Double?] {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return processes.map { process -> Double? in
            guard let text = try? String(contentsOfFile: "/proc/\(process.pid)/stat", encoding: .utf8),
                  let close = text.lastIndex(of: ")")
            else { return nil }
            // After "pid (comm) ": state is field 3; utime and stime are 14 and 15.
            let fields = text[text.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
            return (user + system) / ticks
        } + [Self.machineBusy(ticks: ticks)]
    }

    /// Busy seconds of all cores: the first line of /proc/stat less idle and iowait.
    private static func machineBusy(ticks: Double) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        // user nice system idle iowait irq softirq steal (guest time is inside user).
        let values = line.split(separator: " ").dropFirst().prefix(8).compactMap { Double($0) }
        guard values.count == 8 else { return nil }
        return (values.reduce(0, +) - values[3] - values[4]) / ticks
    }

    /// `cpu_NAME=cores` for each process: CPU seconds used between the readings / `seconds`.
    /// Then `cpu_other`: the machine's busy cores less the named processes' (and ours).
    func report(from start: [Double?], to end: [Double?], seconds: Double) -> String {
        let used = zip(start, end).map { before, after in before.flatMap { b in after.map { ($0 - b) / seconds } } }
        var fields = zip(processes, used).map { process, cores in
            "cpu_\(process.name)=" + (cores.map { String(format: "%.2f", $0) } ?? "nan")
        }
        if let machine = used.last ?? nil {
            let ours = used.dropLast().reduce(0) { $0 + ($1 ?? 0) }
            fields.append("cpu_other=" + String(format: "%.2f", max(0, machine - ours)))
        }
        return fields.joined(separator: " ")
    }
}
