/// Retries `body` until it returns true or `seconds` pass; returns how long it took.
/// Fails the test (throws) when the condition never holds.
@discardableResult
public func eventually(
    within seconds: Double, _ body: () async throws -> Bool
) async throws -> Duration {
    let clock = ContinuousClock()
    let start = clock.now
    while clock.now - start < .seconds(seconds) {
        if (try? await body()) == true { return clock.now - start }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TestEnvironment.Missing(description: "condition not met within \(seconds) s")
}
