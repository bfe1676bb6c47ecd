#if canImport(Glibc)
import Glibc
#endif
import ChatRuntime

/// A child process started with `ProcessSpawn` (a clean signal mask: Foundation's
/// `Process` passes on the blocked signals of the calling thread, and a server started
/// that way ignores SIGTERM).
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    /// The wait status, once the process has been reaped.
    public private(set) var waitStatus: Int32?

    public init(executable: String, arguments: [String], environment: [String: String]? = nil, output: String = "/dev/null") throws {
        do throws(ProcessSpawn.SpawnError) {
            pid = try ProcessSpawn.spawn(
                executable: executable, arguments: arguments, environment: environment.map { $0.map { "\($0.key)=\($0.value)" } }, output: output
            )
        } catch {
            throw TestEnvironment.Missing(description: error.description)
        }
    }

    deinit {
        terminate(signal: SIGKILL)
    }

    public func signal(_ number: Int32) {
        if waitStatus == nil { kill(pid, number) }
    }

    /// Sends `signal` (after a SIGCONT, in case it is stopped) and reaps the process,
    /// escalating to SIGKILL after `grace` seconds. Returns the wait status.
    @discardableResult
    public func terminate(signal number: Int32 = SIGTERM, grace: Double = 10) -> Int32 {
        if let waitStatus { return waitStatus }
        kill(pid, SIGCONT)
        kill(pid, number)
        if let status = waitForExit(timeout: grace) { return status }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        waitStatus = status
        return status
    }

    /// Waits up to `timeout` seconds for the process to exit; its wait status, or nil.
    public func waitForExit(timeout: Double) -> Int32? {
        var waited = 0.0
        while !hasExited {
            if waited >= timeout { return nil }
            usleep(10_000)
            waited += 0.01
        }
        return waitStatus
    }

    /// True once the process has exited (reaping it).
    public var hasExited: Bool {
        if waitStatus != nil { return true }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { waitStatus = status }
        return waitStatus != nil
    }
}
