import Synchronization

/// Set once by the graceful-shutdown handler, read by the drain loop between steps.
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)

    var isSet: Bool { value.load(ordering: .acquiring) }

    func set() {
        value.store(true, ordering: .releasing)
    }

    /// Sleeps `duration` in short steps, returning early once the flag is set.
    func sleep(for duration: Duration) async {
        var left = duration
        while left > .zero && !isSet {
            let step = min(left, .milliseconds(100))
            try? await Task.sleep(for: step)
            left -= step
        }
    }
}
