/// The keys of a group's membership changes on a layout's partitions (docs/architecture.md,
/// *Redis Cluster: partitions and steps*): a change's first step keeps a `pending` record in
/// the group's partition, each member partition's step an `applied` marker.
extension RedisKeys {
    /// Every gid of a partition's groups (score = gid), for the operators' console: the
    /// group's partition (`chat:groups` on one Redis).
    public func groups(partition: Int) -> String { Self.groups + layout.suffix(ofPartition: partition) }
    public func groups(ofGroup groupID: Int) -> String { groups(partition: layout.partition(ofGroup: groupID)) }

    /// Changes whose member steps are not done yet, by deadline (ms, the bridge's clock).
    public func groupPending(partition: Int) -> String { Self.groupPending + layout.suffix(ofPartition: partition) }
    /// The pending changes' records (change id → the members' changes, JSON).
    public func groupPendingRecords(partition: Int) -> String {
        Self.groupPendingRecords + layout.suffix(ofPartition: partition)
    }
    /// That a change's member step ran in this partition (expires after a day).
    public func groupApplied(_ changeID: String, partition: Int) -> String {
        Self.groupApplied(changeID) + layout.suffix(ofPartition: partition)
    }

    public static let groupPending = "chat:group:pending"
    public static let groupPendingRecords = "chat:group:pending:records"
    public static func groupApplied(_ changeID: String) -> String { "chat:group:applied:\(changeID)" }
}
