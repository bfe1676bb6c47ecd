/// Thrown by a route or a send to answer `fail(text)` (HTTP) or a failed acknowledgement
/// (WebSocket); nothing else about the failure leaks out.
package struct APIFailure: Error, Equatable {
    package let text: String

    package init(_ text: String) {
        self.text = text
    }
}
