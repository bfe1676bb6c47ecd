#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, with a clean signal mask.
///
/// Foundation's `Process` spawns from whatever thread calls it; Dispatch and Swift
/// concurrency threads block most signals, and a child inherits that mask, so a server
/// started that way ignores SIGTERM. Here the mask is reset and the signals defaulted.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    /// The wait status, once the process has been reaped.
    public private(set) var waitStatus: Int32?

    public init(executable: String, arguments: [String], environment: [String: String]? = nil, output: String = "/dev/null") throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let environmentList: [String] = environment.map { $0.map { "\($0.key)=\($0.value)" } } ?? Self.currentEnvironment()
        let envp = environmentList.map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }

        var pid = pid_t()
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else {
            throw TestEnvironment.Missing(description: "could not start \(executable): \(String(cString: strerror(status)))")
        }
        self.pid = pid
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

    private static func currentEnvironment() -> [String] {
        var result: [String] = []
        var pointer = environ
        while let entry = pointer.pointee {
            result.append(String(cString: entry))
            pointer += 1
        }
        return result
    }
}
