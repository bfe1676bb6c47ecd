import NIOPosix
import Testing

/// Runs each test of a suite on threads that may block (`.offCooperativePool`).
///
/// The helpers that drive real processes block their thread: `BridgeProcess.post`,
/// `register` and `login` wait on a socket (`HTTPProbe`), `ChildProcess.waitForExit`
/// sleeps. On the cooperative pool (as many threads as cores, two here) a few of those in
/// parallel suites stopped every other test — a 5 s wait for another process's write
/// never got to look. With this trait a test's tasks run on a pool of threads meant for
/// blocking work, so one test blocking holds up only itself.
public struct OffCooperativePool: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        // Once per test case; the suite's own scope runs as it is.
        guard testCase != nil else { return try await function() }
        try await withTaskExecutorPreference(BlockingTestExecutor.shared) { try await function() }
    }
}

extension Trait where Self == OffCooperativePool {
    /// See ``OffCooperativePool``.
    public static var offCooperativePool: Self { Self() }
}

/// A task executor over a pool of threads for blocking work (NIO's `NIOThreadPool`).
public final class BlockingTestExecutor: TaskExecutor {
    public static let shared = BlockingTestExecutor(threads: 16)

    private let pool: NIOThreadPool

    init(threads: Int) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        pool.submit { _ in job.runSynchronously(on: executor) }
    }
}
