import ChatGateway
import Hummingbird
import Model

extension RequestParameters {
    /// A path parameter (`:id`, `:page`), checked as `integer` checks a body's, with its texts.
    static func pathInteger(
        _ name: String, of context: BridgeRequestContext, in range: ClosedRange<Int64> = Int64.min...Int64.max
    ) throws(APIFailure) -> Int64 {
        let value = context.parameters.get(name).map(JSONValue.string) ?? .null
        return try RequestParameters(body: [name: value]).integer(name, in: range)
    }
}
