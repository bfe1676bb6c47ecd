/// The names of the operators' console keys in a ``KeyLayout`` (docs/architecture.md,
/// *Redis Cluster: partitions and steps*).
///
/// The console's accounts share the audit's slot (partition 0's tag, as ``adminAudit``):
/// an account's change and its audit row stay one script run (`lua/admin_account.lua`)
/// on every layout. The plain names on one Redis.
extension RedisKeys {
    public func admin(_ name: String) -> String { Self.admin(name) + layout.suffix(ofPartition: 0) }
    public var admins: String { Self.admins + layout.suffix(ofPartition: 0) }
    public var adminIDs: String { Self.adminIDs + layout.suffix(ofPartition: 0) }

    /// A complaint in a known partition (the console finds a complaint's partition in the
    /// partitions' `chat:complaints{pk}` indexes: its reporter's).
    public func complaint(_ id: Int, partition: Int) -> String { Self.complaint(id) + layout.suffix(ofPartition: partition) }
}
