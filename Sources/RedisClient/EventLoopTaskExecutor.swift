import NIOCore

/// Runs Swift tasks on a NIO event loop: a task started with this executor preference
/// (`Task(executorPreference:)`, `withTaskExecutorPreference`) runs on the loop, and so do
/// its continuations when the loop resumes them. Awaiting a Redis reply from such a task,
/// on a connection of the same loop, then involves no thread at all besides the loop's.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        eventLoop.execute {
            job.runSynchronously(on: executor)
        }
    }
}
