import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// CPU time of named processes from `/proc/PID/stat` (Linux): read at the edges of a
/// measurement window, it tells on a 2-core machine which process used the cores.
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

    /// Seconds of CPU (user + system) each process has used so far; nil for one that is gone.
    func read() -> [Double?] {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return processes.map { process in
            guard let text = try? String(contentsOfFile: "/proc/\(process.pid)/stat", encoding: .utf8),
                  let close = text.lastIndex(of: ")")
            else { return nil }
            // After "pid (comm) ": state is field 3; utime and stime are 14 and 15.
            let fields = text[text.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
            return (user + system) / ticks
        }
    }

    /// `cpu_NAME=cores` for each process: CPU seconds used between the readings / `seconds`.
    func report(from start: [Double?], to end: [Double?], seconds: Double) -> String {
        zip(processes, zip(start, end)).map { process, readings in
            guard let before = readings.0, let after = readings.1 else { return "cpu_\(process.name)=nan" }
            return "cpu_\(process.name)=" + String(format: "%.2f", (after - before) / seconds)
        }.joined(separator: " ")
    }
}
