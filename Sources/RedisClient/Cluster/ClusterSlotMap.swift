/// Which primary serves each hash slot, as a value: read from `CLUSTER SLOTS`, replaced
/// whole when the cluster says it changed (MOVED, a lost primary), never edited in place.
struct ClusterSlotMap: Sendable, Equatable {
    struct Shard: Sendable, Equatable {
        var primary: ClusterNodeAddress
        var replicas: [ClusterNodeAddress]
    }

    let shards: [Shard]
    /// Per slot, the index of its shard in `shards`; `unassigned` when no shard serves it.
    private let owners: [UInt16]
    private static let unassigned = UInt16.max

    init(shards: [Shard], slotRanges: [(ClosedRange<Int>, shard: Int)]) {
        self.shards = shards
        var owners = [UInt16](repeating: Self.unassigned, count: HashSlot.count)
        for (range, shard) in slotRanges {
            for slot in range where slot >= 0 && slot < HashSlot.count { owners[slot] = UInt16(shard) }
        }
        self.owners = owners
    }

    /// The primary serving `slot`, nil while no shard does.
    func primary(for slot: HashSlot) -> ClusterNodeAddress? {
        let owner = owners[Int(slot.rawValue)]
        return owner == Self.unassigned ? nil : shards[Int(owner)].primary
    }

    var primaries: [ClusterNodeAddress] { shards.map(\.primary) }

    /// Every node the map names, primaries first.
    var nodes: [ClusterNodeAddress] { primaries + shards.flatMap(\.replicas) }

    /// True when every slot has a primary.
    var coversAllSlots: Bool { !owners.contains(Self.unassigned) }

    /// Reads a `CLUSTER SLOTS` reply: `[[start, end, [ip, port, id, …], replica…], …]`.
    /// A node with no known address (`""`, `?`) is at `askedHost`, the host that answered.
    static func fromClusterSlots(_ reply: RedisReply, askedHost: String) throws(RedisError) -> ClusterSlotMap {
        guard case .array(let ranges) = reply else {
            throw .protocolError("CLUSTER SLOTS: expected an array, got \(reply)")
        }
        var shards: [Shard] = []
        var shardIndex: [ClusterNodeAddress: Int] = [:]
        var slotRanges: [(ClosedRange<Int>, shard: Int)] = []
        for entry in ranges {
            guard case .array(let fields) = entry, fields.count >= 3,
                  let start = fields[0].integer, let end = fields[1].integer, start <= end else {
                throw .protocolError("CLUSTER SLOTS: malformed slot range \(entry)")
            }
            let nodes = try fields[2...].map { node throws(RedisError) in try address(of: node, askedHost: askedHost) }
            let primary = nodes[0]
            let index: Int
            if let known = shardIndex[primary] {
                index = known
            } else {
                index = shards.count
                shardIndex[primary] = index
                shards.append(Shard(primary: primary, replicas: Array(nodes.dropFirst())))
            }
            slotRanges.append((Int(start)...Int(end), shard: index))
        }
        return ClusterSlotMap(shards: shards, slotRanges: slotRanges)
    }

    private static func address(of node: RedisReply, askedHost: String) throws(RedisError) -> ClusterNodeAddress {
        guard case .array(let fields) = node, fields.count >= 2, let host = fields[0].string,
              let port = fields[1].integer, (1...65535).contains(port) else {
            throw .protocolError("CLUSTER SLOTS: malformed node \(node)")
        }
        return ClusterNodeAddress(host: host.isEmpty || host == "?" ? askedHost : host, port: Int(port))
    }
}

/// A cluster node's address as the cluster announces it (`MOVED 3999 127.0.0.1:6381`).
struct ClusterNodeAddress: Hashable, Sendable, CustomStringConvertible {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port` as in a MOVED or ASK reply (an IPv6 host holds colons: the port is
    /// after the last one).
    init?(_ text: some StringProtocol) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.init(host: host, port: port)
    }

    var endpoint: RedisConfiguration.Endpoint { .tcp(host: host, port: port) }

    var description: String { endpoint.description }
}
