import Foundation

/// A serial executor that runs every job on one OS thread of its own.
///
/// libmariadb calls block their thread for as long as the server takes to answer. Run on
/// Swift's cooperative pool (two threads on a two-core machine) they would stall every
/// other task of the process; run here, they stall only this thread. An actor adopts the
/// executor through `unownedExecutor`, and its isolated state (the connection) is then
/// only ever touched on this thread.
///
/// The thread ends once the executor is released and its queue is empty.
final class DedicatedThreadExecutor: SerialExecutor {
    private let queue: JobQueue

    init(name: String) {
        let queue = JobQueue()
        self.queue = queue
        // Unowned: the thread must not keep the executor alive, or it could never end.
        // Jobs keep their actor, and so this executor, alive while they are queued.
        let executor = UnownedSerialExecutor(ordinary: self)
        let thread = Thread { queue.run(on: executor) }
        thread.name = name
        thread.start()
    }

    deinit {
        queue.stop()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        queue.append(UnownedJob(job))
    }

    /// Whether the caller runs on the executor's thread.
    var isCurrentThread: Bool {
        queue.isCurrentThread
    }

    func checkIsolated() {
        precondition(queue.isCurrentThread, "expected to run on the thread of a DedicatedThreadExecutor")
    }
}

/// The jobs waiting for the thread. Its state is guarded by `condition`, which is why
/// the class can be `@unchecked Sendable`.
private final class JobQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [UnownedJob] = []
    private var stopped = false
    /// Set by the thread itself before it runs any job.
    private var thread: pthread_t?

    var isCurrentThread: Bool {
        guard let thread = condition.withLock({ thread }) else { return false }
        return pthread_equal(thread, pthread_self()) != 0
    }

    func append(_ job: UnownedJob) {
        condition.withLock {
            pending.append(job)
            condition.signal()
        }
    }

    func stop() {
        condition.withLock {
            stopped = true
            condition.signal()
        }
    }

    /// The thread's body: runs jobs in order until stopped with nothing left to run.
    func run(on executor: UnownedSerialExecutor) {
        condition.withLock { thread = pthread_self() }
        while true {
            condition.lock()
            while pending.isEmpty && !stopped {
                condition.wait()
            }
            if pending.isEmpty {
                condition.unlock()
                return
            }
            // Take the whole batch: one lock round trip per wake-up, not per job.
            let batch = pending
            pending = []
            condition.unlock()
            for job in batch {
                job.runSynchronously(on: executor)
            }
        }
    }
}
