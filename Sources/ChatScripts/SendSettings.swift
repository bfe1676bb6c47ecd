/// The arguments of the send scripts that come from configuration, as text once rather
/// than per message.
public struct SendSettings: Sendable {
    let clientIDWindow: String
    let historyCap: String
    let streamCap: String
    let node: String
    let deadAfter: String
    let queueCap: String

    /// - Parameters: `clientIDWindow` in seconds, `deadAfter` in milliseconds; `node` is
    ///   the calling process's node id.
    public init(clientIDWindow: Int64, historyCap: Int, streamCap: Int, node: String, deadAfter: Int64, queueCap: Int) {
        self.clientIDWindow = String(clientIDWindow)
        self.historyCap = String(historyCap)
        self.streamCap = String(streamCap)
        self.node = node
        self.deadAfter = String(deadAfter)
        self.queueCap = String(queueCap)
    }
}
