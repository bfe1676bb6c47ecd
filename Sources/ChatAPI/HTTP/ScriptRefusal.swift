import ChatGateway

/// The error codes with which a `lua/` script refuses a change, as a store's enum
/// (`FriendStore.Refusal`, `ComplaintStore.Refusal`, …, the contracts' types): a route
/// maps each to its text.
protocol ScriptRefusal: Error, Hashable, RawRepresentable where RawValue == String {}

extension APIFailure {
    /// Runs a change, answering the refusals in `texts` with their texts (`fail(…)`);
    /// other refusals and errors go on.
    static func refusing<Refusal: ScriptRefusal, Result>(
        _ texts: [Refusal: String], _ change: () async throws -> Result
    ) async throws -> Result {
        do {
            return try await change()
        } catch let refusal as Refusal {
            guard let text = texts[refusal] else { throw refusal }
            throw APIFailure(text)
        }
    }
}
