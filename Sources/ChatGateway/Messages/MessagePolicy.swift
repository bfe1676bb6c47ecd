import Model
import RedisClient

/// The bounds of accepted messages, shared by every bridge process of a deployment.
package struct MessagePolicy: Sendable {
    /// Each history list (`chatlog:…`) keeps the newest this many messages (docs/architecture.md: no
    /// unbounded growth); trimmed entries are counted.
    package var historyCap = 1000
    /// `MAXLEN ~` of every append to a stream: the safety net against a consumer group
    /// that never reads (the persister trims to what every group has read).
    package var streamCap = StreamName.defaultHardCap
    /// How long a WebSocket send's client id is remembered: a retry within it is answered
    /// with the first acceptance and nothing is sent twice.
    package var clientIDWindow: Duration = .seconds(300)
    /// docs/api.md: a message can be revoked within 5 minutes of its stored time.
    var revokeWindow: Duration = .seconds(300)
    /// Questions waiting for their automatic answer, at most (`AutoReplyQueue`).
    package var autoReplyQueueCap = AutoReplyQueue.defaultCapacity
    /// Automatic answers worked on at once, at most (`AutoReplyService`).
    package var autoReplyWorkers = 8

    /// Sends per second per sender, the token bucket of the send scripts (lua/lib/rate.lua);
    /// 0: no limit.
    package var sendRate = 10
    /// Sends a sender may make at once beyond the rate (the bucket's size).
    package var sendBurst = 20
    /// `WAIT` after each send script (`--redis-wait-replicas`); nil: none.
    package var replicaAcknowledgement: ReplicaAcknowledgement?

    package init() {}
}
