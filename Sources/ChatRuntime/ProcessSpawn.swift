import CSpawn

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `posix_spawn` with a clean signal mask: Dispatch and Swift concurrency threads block
/// most signals and a child inherits that mask (a server started that way ignores
/// SIGTERM), so the mask is emptied and every signal's action reset to the default.
/// stdin is `/dev/null`; stdout and stderr are appended to `output`; no other file
/// descriptor is inherited.
public enum ProcessSpawn {
    /// Starts `executable` (a path, or with `searchPath` a name looked up in `PATH`);
    /// `newProcessGroup` makes the child the leader of a group of its own, so that one
    /// `kill(-pid, …)` reaches everything it starts. Throws the `errno` of the failure.
    public static func spawn(
        executable: String, arguments: [String], environment: [String]? = nil, output: String = "/dev/null",
        searchPath: Bool = false, newProcessGroup: Bool = false
    ) throws(SpawnError) -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else is inherited. A socket without close-on-exec (NIO's are not all
        // created with it) held open by a child outlives its close here: the peer never
        // sees the connection end while the child runs.
        let closing = cspawn_file_actions_addclosefrom(&actions, 3)
        guard closing == 0 else { throw SpawnError(executable: executable, errno: closing) }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = (environment ?? currentEnvironment()).map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }

        var pid = pid_t()
        let status =
            searchPath
            ? posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
            : posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else { throw SpawnError(executable: executable, errno: status) }
        return pid
    }

    public struct SpawnError: Error, Equatable, CustomStringConvertible {
        public let executable: String
        public let errno: Int32

        public var description: String { "could not start \(executable): \(String(cString: strerror(errno)))" }
    }

    /// `NAME=value` entries of this process's environment.
    public static func currentEnvironment() -> [String] {
        var result: [String] = []
        var pointer = environ
        while let entry = pointer.pointee {
            result.append(String(cString: entry))
            pointer += 1
        }
        return result
    }
}
