import Model
import RedisClient

/// A stream as the run's layout writes it (`testKeys`): one shard per partition, the
/// stream itself when plain. An operation's entry is in the shard of the partition whose
/// step wrote it, so a test that looks for its entries reads every shard from a mark.
public struct ShardedStream: Sendable {
    /// One entry: the shard it is in, its id and its fields in order.
    public struct Entry: Sendable {
        public let shard: String
        public let id: String
        public let pairs: [(String, String)]
        public var fields: [String: String] { Dictionary(pairs, uniquingKeysWith: { first, _ in first }) }
    }

    /// The newest id of each shard when the mark was taken ("0-0" when empty): entries after
    /// it are the test's (and those of the suites running beside it).
    public struct Mark: Sendable {
        let newest: [String: String]
    }

    public let name: String
    public var shards: [String] { testKeys.shards(of: name) }

    public init(_ name: String) {
        self.name = name
    }

    public func mark(_ redis: RedisClient) async throws -> Mark {
        var newest: [String: String] = [:]
        for shard in shards {
            let entry = try await redis.send("XREVRANGE", shard, "+", "-", "COUNT", 1).array?.first
            newest[shard] = entry?.array?.first?.string ?? "0-0"
        }
        return Mark(newest: newest)
    }

    /// The entries after `mark` (every entry without one), shard by shard, each shard's in order.
    public func entries(_ redis: RedisClient, after mark: Mark? = nil) async throws -> [Entry] {
        var entries: [Entry] = []
        for shard in shards {
            let start = mark?.newest[shard].map { "(" + $0 } ?? "-"
            for entry in try await redis.send("XRANGE", shard, start, "+").array ?? [] {
                guard let id = entry.array?.first?.string, let flat = entry.array?.last?.array?.compactMap(\.string) else { continue }
                let pairs = stride(from: 0, to: flat.count - 1, by: 2).map { (flat[$0], flat[$0 + 1]) }
                entries.append(Entry(shard: shard, id: id, pairs: pairs))
            }
        }
        return entries
    }

    public static let messages = ShardedStream(StreamName.messages)
    public static let entities = ShardedStream(StreamName.entities)
}
