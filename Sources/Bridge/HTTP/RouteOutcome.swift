import Hummingbird

/// How the friend and group routes turn a store's refusals and unexpected errors into
/// answers.
enum RouteOutcome {
    static let systemError = "系统异常，请稍后再试"

    /// Runs a change, answering the refusals `texts` names with their texts.
    static func refusing<Refusal: Error & Hashable, Result>(
        _ texts: [Refusal: String], _ change: () async throws -> Result
    ) async throws -> Result {
        do {
            return try await change()
        } catch let refusal as Refusal {
            guard let text = texts[refusal] else { throw refusal }
            throw APIFailure(text)
        }
    }

    /// Runs a route: anything but a `fail(…)` of its own (Redis unreachable, a script
    /// error) is logged and answered `fail('系统异常，请稍后再试')`; thanks to the scripts,
    /// nothing is half-written.
    static func answer(
        _ context: BridgeRequestContext, area: String, _ route: () async throws -> Response
    ) async throws -> Response {
        do {
            return try await route()
        } catch let failure as APIFailure {
            throw failure
        } catch {
            context.logger.error("\(area): request failed", metadata: ["error": "\(error)"])
            throw APIFailure(systemError)
        }
    }
}
