import Model
import RedisClient

/// The arguments of the send scripts that come from configuration, as text once rather
/// than per message.
public struct SendSettings: Sendable {
    let clientIDWindow: String
    let historyCap: String
    let streamCap: String
    let node: String
    let deadAfter: String
    let queueCap: String
    let queueByteCap: String
    let sendRate: String
    let sendBurst: String
    /// A send between partitions left pending this long (ms) is finished by the repairer.
    let repairAfter: String
    /// How long (s) the recipient's step keeps its `applied` marker.
    let appliedTTL: String

    /// - Parameters: `clientIDWindow` in seconds, `deadAfter` in milliseconds; `node` is
    ///   the calling process's node id; `queueByteCap`: the offline queue's cap in bytes;
    ///   `sendRate` sends per second per sender (0: no limit), `sendBurst` sends at once
    ///   beyond it (lua/lib/rate.lua); `repairAfterMilliseconds`: how long a send between
    ///   partitions may stay pending before the repairer finishes it; `appliedSeconds`:
    ///   how long its recipient's step remembers that it ran.
    public init(
        clientIDWindow: Int64, historyCap: Int, streamCap: Int, node: String, deadAfter: Int64, queueCap: Int,
        queueByteCap: Int, sendRate: Int = 0, sendBurst: Int = 1, repairAfterMilliseconds: Int64 = 10_000,
        appliedSeconds: Int = 600
    ) {
        repairAfter = String(repairAfterMilliseconds)
        appliedTTL = String(appliedSeconds)
        self.clientIDWindow = String(clientIDWindow)
        self.historyCap = String(historyCap)
        self.streamCap = String(streamCap)
        self.node = node
        self.deadAfter = String(deadAfter)
        self.queueCap = String(queueCap)
        self.queueByteCap = String(queueByteCap)
        self.sendRate = String(sendRate)
        self.sendBurst = String(max(sendBurst, 1))
    }
}

extension RedisCommandArguments {
    /// ARGV[1...18] of both send scripts: the message, the sender's token and client id to
    /// check, and the settings.
    mutating func appendSend(
        id: String, from sender: Int, to recipient: Int, type: String, data: [UInt8], options: [UInt8],
        uncheckedToken: String?, clientID: String?, settings: SendSettings
    ) {
        append(id)
        append(sender)
        append(recipient)
        append(type)
        append(bytes: data)
        append(bytes: options)
        append(uncheckedToken ?? "")
        append(clientID ?? "")
        append(settings.clientIDWindow)
        append(settings.historyCap)
        append(settings.streamCap)
        append(settings.node)
        append(settings.deadAfter)
        append(settings.queueCap)
        append(RedisKeys.nodeStreamPrefix)
        append(settings.sendRate)
        append(settings.sendBurst)
        append(settings.queueByteCap)
    }
}
