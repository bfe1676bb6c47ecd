/// The names of the group send's steps on a partitioned layout (docs/architecture.md,
/// *Redis Cluster: partitions and steps*).
extension RedisKeys {
    /// A sender's group sends whose last step has not run yet: message id → the deadline
    /// (Redis' ms) after which the repairer finishes them. In the sender's partition.
    public func pendingGroupSends(partition: Int) -> String {
        Self.pendingGroupSendsPrefix + layout.suffix(ofPartition: partition)
    }
    /// One such send: what the sender's step decided and what the later steps need
    /// (`lua/message_group_sender.lua`). In the sender's partition.
    public func pendingGroupSend(_ messageID: String, partition: Int) -> String {
        Self.pendingGroupSendsPrefix + ":" + messageID + layout.suffix(ofPartition: partition)
    }
    public static let pendingGroupSendsPrefix = "chat:pending:group"
    /// The outcome of a group send's step in `partition` (the group's: accepted or refused;
    /// a member partition's: delivered), so that running it again changes nothing.
    public func appliedGroupSend(_ messageID: String, partition: Int) -> String {
        "chat:applied:group:" + messageID + layout.suffix(ofPartition: partition)
    }
}
