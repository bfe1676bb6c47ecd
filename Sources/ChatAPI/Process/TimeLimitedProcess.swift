#if canImport(Glibc)
import Glibc
#endif
import ChatRuntime

/// Runs an external program to completion or to its time limit, without blocking a
/// thread: the child is started with `posix_spawnp` and its exit polled with
/// `waitpid(WNOHANG)` between short sleeps (a blocking `waitpid` would hold a thread of
/// the pool, or an event loop, for as long as the program runs).
///
/// The child (`ProcessSpawn`: a clean signal mask) leads a process group of its own, so
/// that the time limit, or the cancellation of the waiting task, kills it and anything
/// it started.
struct TimeLimitedProcess: Sendable {
    enum Outcome: Equatable, Sendable {
        case exited(Int32)
        case signalled(Int32)
        /// Killed at the time limit.
        case timedOut
    }

    /// A path, or a name looked up in `PATH`.
    let executable: String
    let arguments: [String]
    let timeLimit: Duration
    /// Where the child's stdout and stderr go (appended).
    var output = "/dev/null"

    func run() async throws(ProcessSpawn.SpawnError) -> Outcome {
        let pid = try spawn()
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeLimit)
        var pause = Duration.milliseconds(1)
        while true {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { return Self.outcome(status) }
            if reaped < 0 && errno != EINTR { return .exited(-1) }
            if clock.now >= deadline || Task.isCancelled {
                Self.kill(group: pid)
                return .timedOut
            }
            // Quick programs are noticed within a millisecond or two, long ones are
            // polled at most every 25 ms.
            try? await Task.sleep(for: min(pause, deadline - clock.now))
            pause = min(pause * 2, .milliseconds(25))
        }
    }

    /// SIGKILL to the child's process group, then reaps the child (it dies at once).
    private static func kill(group pid: pid_t) {
        Glibc.kill(-pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    private static func outcome(_ status: Int32) -> Outcome {
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import (macros).
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signalled(signal)
    }

    private func spawn() throws(ProcessSpawn.SpawnError) -> pid_t {
        try ProcessSpawn.spawn(executable: executable, arguments: arguments, output: output, searchPath: true, newProcessGroup: true)
    }
}
