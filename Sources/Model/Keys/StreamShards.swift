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

/// A shard's name read back: which stream, which partition.
public struct StreamShardName: Sendable, Hashable {
    /// The stream's plain name (``StreamName/messages``…): what metrics and logs group by.
    public let stream: String
    public let partition: Int
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

    /// The stream and partition of a shard's name; nil for a name that is no shard of
    /// this layout.
    public func streamShard(named name: String) -> StreamShardName? {
        for stream in Self.shardedStreams where name.hasPrefix(stream) {
            let suffix = name.dropFirst(stream.utf8.count)
            guard let partition = layout.suffixes.firstIndex(where: { $0[...] == suffix }) else { continue }
            return StreamShardName(stream: stream, partition: partition)
        }
        return nil
    }
}
