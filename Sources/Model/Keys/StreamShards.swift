/// One partition's shards of the three streams the scripts append to (docs/streams.md,
/// *Shards*): on one slot, so a script run in the partition appends to them and one
/// XREADGROUP reads them together. On the plain layout: the one partition's, today's names.
public struct StreamShards: Sendable, Hashable {
    public let partition: Int
    public let messages: String
    public let entities: String
    public let privateEntities: String

    /// The shard of `stream` (one of ``StreamName/messages``, ``StreamName/entities``,
    /// ``StreamName/privateEntities``).
    public func shard(of stream: String) -> String? {
        switch stream {
        case StreamName.messages: messages
        case StreamName.entities: entities
        case StreamName.privateEntities: privateEntities
        default: nil
        }
    }

    /// The three, in the order the persister reads them (entities first: a row before the
    /// messages that may name it, within one read).
    public var all: [String] { [entities, messages, privateEntities] }
}

extension RedisKeys {
    /// The streams the scripts write (dead letters are the persister's, not sharded).
    public static let shardedStreams = [StreamName.entities, StreamName.messages, StreamName.privateEntities]

    /// Partition `partition`'s shards: what a script run in that partition appends to.
    public func streamShards(partition: Int) -> StreamShards {
        StreamShards(
            partition: partition,
            messages: stream(StreamName.messages, partition: partition),
            entities: stream(StreamName.entities, partition: partition),
            privateEntities: stream(StreamName.privateEntities, partition: partition)
        )
    }

    /// The shards of the user's partition (a step that runs there appends to them).
    public func streamShards(ofUser userID: Int) -> StreamShards { streamShards(partition: layout.partition(ofUser: userID)) }
    /// The shards of the group's partition.
    public func streamShards(ofGroup groupID: Int) -> StreamShards { streamShards(partition: layout.partition(ofGroup: groupID)) }

    /// Every partition's shards, partition by partition.
    public var allStreamShards: [StreamShards] { (0..<layout.partitions).map(streamShards(partition:)) }
}
