/// How the keys of users and groups are spread over Redis (docs/architecture.md, *Redis
/// Cluster: partitions*).
///
/// One Redis keeps the plain names of docs/data.md (the *compat* names old tools know).
/// A Redis Cluster wants every script run on one slot, so there the keys are split into
/// `partitions`: user `u` belongs to partition `u mod partitions`, group `g` to
/// `g mod partitions`, and every key of a partition ends in its hash tag (`{p3}`), the
/// partition's stream shards and delivery streams included. A send between two users of
/// one partition is still one script run; between partitions it is a few steps, one per
/// partition. The count is a deployment constant (kept in `chat:meta`; changing it means
/// rebuilding Redis from MariaDB).
public struct KeyLayout: Sendable, Hashable {
    /// Each partition's suffix: `{tag}`, or `""` for the one partition of the plain layout.
    public let suffixes: [String]

    /// One partition, no tags: the names of docs/data.md (one Redis).
    public static let plain = KeyLayout(suffixes: [""])

    /// `tags.count` partitions tagged `{tags[k]}` (the tags from `PartitionTags`).
    public init(partitionTags tags: [String]) {
        precondition(!tags.isEmpty, "at least one partition")
        self.init(suffixes: tags.map { "{\($0)}" })
    }

    private init(suffixes: [String]) {
        self.suffixes = suffixes
    }

    public var partitions: Int { suffixes.count }
    /// False for `plain`: the names carry no tag.
    public var isTagged: Bool { suffixes[0] != "" }

    public func partition(ofUser userID: Int) -> Int { Self.partition(of: userID, count: suffixes.count) }
    public func partition(ofGroup groupID: Int) -> Int { Self.partition(of: groupID, count: suffixes.count) }

    /// Ids are positive; a negative one (never stored) still maps to a partition.
    private static func partition(of id: Int, count: Int) -> Int {
        let remainder = id % count
        return remainder < 0 ? remainder + count : remainder
    }

    public func suffix(ofPartition partition: Int) -> String { suffixes[partition] }
    public func suffix(ofUser userID: Int) -> String { suffixes[partition(ofUser: userID)] }
    public func suffix(ofGroup groupID: Int) -> String { suffixes[partition(ofGroup: groupID)] }
}
