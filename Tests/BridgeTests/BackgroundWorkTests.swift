import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import ChatGateway

/// The bridge's background work under the service group: a graceful shutdown waits for it.
@Suite("Background work")
struct BackgroundWorkTests {
    @Test("a graceful shutdown waits for the jobs submitted, and for the jobs they submit", .timeLimit(.minutes(1)))
    func shutdownWaits() async throws {
        let work = BackgroundWork()
        let done = Mutex<[String]>([])
        let group = ServiceGroup(configuration: .init(services: [work], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            work.submit {
                try? await Task.sleep(for: .milliseconds(200))
                work.submit {
                    try? await Task.sleep(for: .milliseconds(100))
                    done.withLock { $0.append("second") }
                }
                done.withLock { $0.append("first") }
            }
            try await Task.sleep(for: .milliseconds(50))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(done.withLock { $0 } == ["first", "second"])
    }

    @Test("a job submitted after the shutdown still runs", .timeLimit(.minutes(1)))
    func lateJobRuns() async throws {
        let work = BackgroundWork()
        let group = ServiceGroup(configuration: .init(services: [work], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await withCheckedContinuation { (ran: CheckedContinuation<Void, Never>) in
            work.submit { ran.resume() }
        }
    }

    @Test("work no service group owns runs at once", .timeLimit(.minutes(1)))
    func unownedRuns() async {
        let work = BackgroundWork(owned: false)
        await withCheckedContinuation { (ran: CheckedContinuation<Void, Never>) in
            work.submit { ran.resume() }
        }
    }
}
