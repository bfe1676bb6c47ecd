/// The keys of friendships, blocks, groups, complaints and Q&A in a layout's partitions
/// (docs/architecture.md, *Redis Cluster: partitions and steps*).
///
/// A friend request lives in its recipient's partition (its row, the pair key, the
/// recipient's lists), so asking is one script run on every layout and the recipient's
/// handling starts in its own partition. The steps of an operation on two partitions keep
/// a `pending` record in the first partition and an `applied` marker in the other.
extension RedisKeys {
    /// A request row: the recipient's partition.
    public func friendRequest(_ id: Int, to recipient: Int) -> String {
        Self.friendRequest(id) + layout.suffix(ofUser: recipient)
    }

    /// The one request per direction: the recipient's partition.
    public func friendRequestPair(from: Int, to: Int) -> String {
        Self.friendRequestPair(from: from, to: to) + layout.suffix(ofUser: to)
    }

    /// Operations whose later steps are not done yet, by deadline (ms, the bridge's clock):
    /// the repairer finishes the expired ones.
    public func socialPending(partition: Int) -> String { Self.socialPending + layout.suffix(ofPartition: partition) }
    /// The pending operations' records (operation id → what the later steps need, JSON).
    public func socialPendingRecords(partition: Int) -> String {
        Self.socialPendingRecords + layout.suffix(ofPartition: partition)
    }
    /// That an operation's step ran in this partition, and its outcome (expires after a day).
    public func socialApplied(_ operationID: String, partition: Int) -> String {
        Self.socialApplied(operationID) + layout.suffix(ofPartition: partition)
    }

    /// A complaint: its reporter's partition (the console finds it by its id in every
    /// partition's index).
    public func complaint(_ id: Int, reporter: Int) -> String { Self.complaint(id) + layout.suffix(ofUser: reporter) }
    /// A partition's complaints (deleted ones too), and by status: the console merges them.
    public func complaints(partition: Int) -> String { Self.complaints + layout.suffix(ofPartition: partition) }
    public func complaints(status: Int, partition: Int) -> String {
        Self.complaints(status: status) + layout.suffix(ofPartition: partition)
    }
    /// The owner of a Q&A pair: the owner's partition (a reader by id asks every partition).
    public func askAnswerOwner(_ id: Int, owner: Int) -> String { Self.askAnswerOwner(id) + layout.suffix(ofUser: owner) }
    /// `askAnswerOwner` in every partition, partition by partition.
    public func askAnswerOwnerCandidates(_ id: Int) -> [String] { layout.suffixes.map { Self.askAnswerOwner(id) + $0 } }

    public static let socialPending = "chat:social:pending"
    public static let socialPendingRecords = "chat:social:pending:records"
    public static func socialApplied(_ operationID: String) -> String { "chat:social:applied:\(operationID)" }
}
