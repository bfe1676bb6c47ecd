/// The names of the accounts' keys in a ``KeyLayout``: a user's own keys are in
/// RedisKeys+Partitioned.swift; here the unique claims (each on its own slot, by its own
/// name, as on one Redis) and the indexes that were global and are kept per partition on
/// a tagged layout (their readers merge the partitions: docs/architecture.md, *Accounts
/// on partitions*).
extension RedisKeys {
    // Unique claims: one key per name, the value the id of the account that holds it. The
    // same names in every layout: a claim is a single-key command (or script) of its own.
    public func userByName(_ username: String) -> String { Self.userByName(username) }
    public func userByUUID(_ uuid: String) -> String { Self.userByUUID(uuid) }
    public func userByDevice(_ deviceID: String) -> String { Self.userByDevice(deviceID) }

    /// A partition's usernames (score 0): `searchUser`'s "contains", the console's prefix.
    public func userNames(partition: Int) -> String { Self.userNames + layout.suffix(ofPartition: partition) }
    /// A tagged layout's username → id of a partition's accounts: what finds the holder
    /// of a name whose claim a crash lost (docs/architecture.md, *Accounts on partitions*).
    public func userIDsByName(partition: Int) -> String { "chat:user:ids" + layout.suffix(ofPartition: partition) }
    /// A partition's user ids (score = id): the console's paged list merges them.
    public func users(partition: Int) -> String { Self.users + layout.suffix(ofPartition: partition) }
    /// A partition's `{nickname}\0{id}` entries (score 0): the console's nickname search.
    public func userNicknames(partition: Int) -> String { Self.userNicknames + layout.suffix(ofPartition: partition) }
    /// The indexes of the user's partition.
    public func userNames(ofUser userID: Int) -> String { userNames(partition: layout.partition(ofUser: userID)) }
    public func users(ofUser userID: Int) -> String { users(partition: layout.partition(ofUser: userID)) }
    public func userNicknames(ofUser userID: Int) -> String { userNicknames(partition: layout.partition(ofUser: userID)) }
    public func userIDsByName(ofUser userID: Int) -> String { userIDsByName(partition: layout.partition(ofUser: userID)) }

    /// The gids of the user's groups that are active (score = gid), kept by the group
    /// scripts in the user's partition on a tagged layout: what `lua/online_connect.lua`
    /// reads for the guidance's "in an active group" fact without a group's key (on one
    /// Redis it reads the groups' rows, as before).
    public func activeGroupsOfUser(_ userID: Int) -> String {
        "chat:user:\(userID):groups:active" + layout.suffix(ofUser: userID)
    }

    /// The entity streams' shards of the user's partition.
    public func entities(ofUser userID: Int) -> String {
        stream(StreamName.entities, partition: layout.partition(ofUser: userID))
    }
    public func privateEntities(ofUser userID: Int) -> String {
        stream(StreamName.privateEntities, partition: layout.partition(ofUser: userID))
    }
}

/// The operators' audit list and its counter: one slot together on a tagged layout (the
/// first partition's), so that an audit row is one run of its own (`lua/admin_audit.lua`);
/// the plain names on one Redis.
extension RedisKeys {
    public var adminAudit: String { Self.adminAudit + layout.suffix(ofPartition: 0) }
    public var adminAuditIDs: String { Self.adminAuditIDs + layout.suffix(ofPartition: 0) }
    /// Where an audit row's entity event goes: the private stream's shard of that slot.
    public var auditStream: String { stream(StreamName.privateEntities, partition: 0) }
}
