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
    /// Silence after which a process's stream is reaped by a live one: twice `deadAfter`,
    /// so that a process that only stalled has read what it was sent before it stopped
    /// being a target (docs/architecture.md, *Delivery*).
    var reapAfter: Duration { deadAfter * 2 }
    /// How long a user's `online_{uid}` lives without a refresh: until its process's
    /// stream is reaped, so that what is routed to a dead process meanwhile goes behind
    /// what waits in its stream (lib/routing.lua) and reaches the queue in order.
    var targetTTL: Duration { reapAfter }
    /// Entries moved per heartbeat at most from dead processes' streams to this one's
    /// (`lua/node_heartbeat.lua`): bounds the time one script holds Redis.
    var reapBatch = 1000
    /// Entries of `chat:nodes` silent this long are removed (once their stream is empty).
    var forgetNodesAfter: Duration = .seconds(24 * 3600)

    package init() {}
}
