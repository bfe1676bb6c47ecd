import Hummingbird

extension Request {
    /// The query's parameters, the first value of each.
    var query: [String: String] {
        Dictionary(uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { first, _ in first })
    }
}
