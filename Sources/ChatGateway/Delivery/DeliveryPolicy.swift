import ChatRuntime

/// The timing and bounds of delivery, shared by every bridge process of a deployment.
package struct DeliveryPolicy: Sendable {
    /// How often a process proves it is alive and refreshes its users' `online_{uid}`.
    package var heartbeat: Duration = .seconds(5)
    /// Silence after which a process no longer counts as a target (and its
    /// `online_{uid}` keys expire): three missed heartbeats.
    var deadAfter: Duration { heartbeat * 3 }
    /// `chat_getmessage_{uid}` keeps the newest this many messages (docs/architecture.md: no unbounded
    /// growth); older ones are dropped, counted and logged.
    package var offlineQueueCap = 5000
    /// … and at most this many bytes of messages (what the user would receive); the
    /// newest message is kept whatever its size.
    package var offlineQueueByteCap = 16 << 20
    /// Messages read from an offline queue per round trip while flushing …
    package var flushBatch = 500
    /// … and about this many bytes of them (at least one message).
    package var flushBatchBytes = 1 << 20
    /// Entries of `chat:nodes` silent this long are removed.
    var forgetNodesAfter: Duration = .seconds(24 * 3600)

    package init() {}
}
