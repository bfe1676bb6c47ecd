/// The names of the single-chat send's steps and of delivery on a partitioned layout
/// (docs/architecture.md, *Redis Cluster: partitions and steps*).
extension RedisKeys {
    /// The partition's suffix (`{p3}`, `""` when plain), which a script appends to the
    /// names it builds itself (`partition_suffix`: a process's delivery stream).
    public func suffix(ofPartition partition: Int) -> String { layout.suffix(ofPartition: partition) }

    /// Node id → the process's dashboard figures, kept in partition 0 (one Redis: the
    /// plain `chat:nodes:stats`).
    public var nodeStats: String { Self.nodeStats + layout.suffix(ofPartition: 0) }
    /// The minute counters of accepted sends, partition 0's: `node_heartbeat` names
    /// `chat:stats:messages:{minute}` from this prefix and appends partition 0's suffix.
    public func messagesInMinute(_ minute: Int64) -> String {
        Self.messagesInMinute(minute) + layout.suffix(ofPartition: 0)
    }

    /// A sender's single sends between partitions whose last step has not run yet:
    /// message id → the deadline (Redis' ms) after which the repairer finishes them.
    public func pendingSends(partition: Int) -> String { Self.pendingSendsPrefix + layout.suffix(ofPartition: partition) }
    /// One such send: what the first step (the sender's partition) decided and what the
    /// later steps need (`lua/lib/single_send.lua`). In the sender's partition.
    public func pendingSend(_ messageID: String, partition: Int) -> String {
        Self.pendingSendsPrefix + ":" + messageID + layout.suffix(ofPartition: partition)
    }
    public static let pendingSendsPrefix = "chat:pending:single"
    /// In the recipient's partition: the outcome of the recipient's step of a single send
    /// between partitions, so that running it again (a retry, the repairer) changes nothing.
    public func appliedSend(_ messageID: String, recipient: Int) -> String {
        "chat:applied:single:" + messageID + layout.suffix(ofUser: recipient)
    }
}
