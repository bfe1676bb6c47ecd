import NIOCore
@testable import RedisClient
import TestSupport
import Testing

/// The cluster client's pieces that need no cluster: hash slots, where a command's keys
/// are, the slot map, the router's decisions. (ClusterClientTests checks them against
/// real nodes.)
@Suite("Redis Cluster routing rules")
struct ClusterRoutingTests {
    @Test("hash slots: CRC16-XMODEM mod 16384, hash tags as the server reads them")
    func hashSlots() {
        // The CRC16 check value of the XMODEM variant, as in the Redis Cluster spec.
        #expect(HashSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        // `redis-cli CLUSTER KEYSLOT` on redis 7.0.15.
        #expect(HashSlot(key: "foo").rawValue == 12182)
        #expect(HashSlot(key: "bar").rawValue == 5061)
        #expect(HashSlot(key: "hello").rawValue == 866)
        #expect(HashSlot(key: "").rawValue == 0)
        // The tag is what is hashed: the bytes between the first { and the next }.
        #expect(HashSlot(key: "{user1000}.following") == HashSlot(key: "user1000"))
        #expect(HashSlot(key: "foo{bar}{zap}") == HashSlot(key: "bar"))
        #expect(HashSlot(key: "foo{{bar}}zap") == HashSlot(key: "{bar"))
        // An empty tag, or none closed: the whole key.
        #expect(HashSlot(key: "foo{}{bar}") != HashSlot(key: "bar"))
        #expect(HashSlot(key: "foo{}{bar}").rawValue == HashSlot.crc16(Array("foo{}{bar}".utf8)) & 16383)
        #expect(HashSlot(key: "{foo").rawValue == HashSlot.crc16(Array("{foo".utf8)) & 16383)
        #expect(HashSlot(rawValue: 16384) == nil && HashSlot(rawValue: 16383)?.rawValue == 16383)
    }

    @Test("a command's keys decide its slot; keys in two slots are refused before sending")
    func commandRouting() throws {
        let a = "{a}"
        #expect(try CommandRouting(RedisCommand("GET", "foo")) == .slot(HashSlot(key: "foo")))
        #expect(try CommandRouting(RedisCommand("MGET", "\(a)1", "\(a)2")) == .slot(HashSlot(key: "a")))
        #expect(try CommandRouting(RedisCommand("MSET", "\(a)1", "x", "\(a)2", "y")) == .slot(HashSlot(key: "a")))
        #expect(try CommandRouting(RedisCommand("EVALSHA", "abc", 2, "\(a)x", "\(a)y", "not-a-key")) == .slot(HashSlot(key: "a")))
        #expect(try CommandRouting(RedisCommand("EVAL", "return 1", 0, "argument")) == .anyNode)
        #expect(try CommandRouting(RedisCommand("XREADGROUP", "GROUP", "g", "c", "COUNT", 10, "STREAMS", "\(a)s", "\(a)t", ">", ">"))
            == .slot(HashSlot(key: "a")))
        #expect(try CommandRouting(RedisCommand("XINFO", "STREAM", "foo")) == .slot(HashSlot(key: "foo")))
        #expect(try CommandRouting(RedisCommand("ZUNIONSTORE", "\(a)d", 2, "\(a)1", "\(a)2", "WEIGHTS", 1, 2)) == .slot(HashSlot(key: "a")))
        #expect(try CommandRouting(RedisCommand("BLPOP", "\(a)1", "\(a)2", 5)) == .slot(HashSlot(key: "a")))
        #expect(try CommandRouting(RedisCommand("PING")) == .anyNode)
        #expect(try CommandRouting(RedisCommand("INFO", "replication")) == .anyNode)
        #expect(try CommandRouting(RedisCommand("SCRIPT", "LOAD", "return 1")) == .allPrimaries)
        #expect(try CommandRouting(RedisCommand("SCRIPT", "EXISTS", "abc")) == .anyNode)
        #expect(try CommandRouting(RedisCommand("FLUSHALL")) == .allPrimaries)
        #expect(throws: RedisError.crossSlot(command: "MGET")) { try CommandRouting(RedisCommand("MGET", "foo", "bar")) }
        #expect(throws: RedisError.crossSlot(command: "EVALSHA")) {
            try CommandRouting(RedisCommand("EVALSHA", "abc", 2, "foo", "bar"))
        }
        // A transaction goes whole to one slot; keys of two slots in it are refused.
        let transaction = [RedisCommand("MULTI"), RedisCommand("INCR", "\(a)1"), RedisCommand("INCR", "\(a)2"), RedisCommand("EXEC")]
        let units = try RedisClusterClient.units(of: transaction)
        #expect(units.count == 1 && units[0].commands == transaction && units[0].routing == .slot(HashSlot(key: "a")))
        #expect(throws: RedisError.crossSlot(command: "MULTI")) {
            try RedisClusterClient.units(of: [RedisCommand("MULTI"), RedisCommand("INCR", "foo"), RedisCommand("INCR", "bar"), RedisCommand("EXEC")])
        }
        // Otherwise each command of a pipeline is routed on its own.
        #expect(try RedisClusterClient.units(of: [RedisCommand("GET", "foo"), RedisCommand("GET", "bar")]).map(\.routing)
            == [.slot(HashSlot(key: "foo")), .slot(HashSlot(key: "bar"))])
    }

    /// The key table against the server's own: in each command only the keys carry the
    /// tag `{k}`, so taking any other argument for a key would change the slot or be
    /// refused as cross-slot.
    @Test("key positions agree with COMMAND GETKEYS", .timeLimit(.minutes(1)))
    func keyPositionsAgreeWithTheServer() async throws {
        let redis = try sharedClient()
        defer { Task { await redis.shutdown() } }
        let commands: [[String]] = [
            ["GET", "{k}a"], ["SET", "{k}a", "x", "EX", "10"], ["HSET", "{k}h", "f", "v"], ["INCRBY", "{k}n", "5"],
            ["DEL", "{k}a", "{k}b", "{k}c"], ["EXISTS", "{k}a", "{k}b"], ["MGET", "{k}a", "{k}b"],
            ["MSET", "{k}a", "1", "{k}b", "2"], ["RENAME", "{k}a", "{k}b"], ["LMOVE", "{k}a", "{k}b", "LEFT", "RIGHT"],
            ["BLPOP", "{k}a", "{k}b", "1"], ["EVALSHA", "0123456789012345678901234567890123456789", "2", "{k}a", "{k}b", "arg", "more"],
            ["EVAL", "return 1", "1", "{k}a", "arg"], ["FCALL", "f", "1", "{k}a", "arg"],
            ["ZUNIONSTORE", "{k}d", "2", "{k}a", "{k}b", "WEIGHTS", "1", "2"], ["ZINTERCARD", "2", "{k}a", "{k}b", "LIMIT", "1"],
            ["ZUNION", "2", "{k}a", "{k}b", "WITHSCORES"], ["LMPOP", "2", "{k}a", "{k}b", "LEFT"],
            ["BLMPOP", "1", "2", "{k}a", "{k}b", "LEFT", "COUNT", "2"], ["SINTERCARD", "2", "{k}a", "{k}b"],
            ["XADD", "{k}s", "*", "f", "v"], ["XREAD", "COUNT", "2", "BLOCK", "10", "STREAMS", "{k}s", "{k}t", "0", "0"],
            ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "{k}s", "{k}t", ">", ">"],
            ["XINFO", "STREAM", "{k}s"], ["XGROUP", "CREATE", "{k}s", "g", "$", "MKSTREAM"], ["XACK", "{k}s", "g", "1-1"],
            ["XPENDING", "{k}s", "g"], ["XTRIM", "{k}s", "MAXLEN", "10"], ["ZADD", "{k}z", "1", "m"], ["EXPIRE", "{k}a", "10"],
            ["OBJECT", "ENCODING", "{k}a"], ["SINTERSTORE", "{k}d", "{k}a", "{k}b"],
        ]
        let tag = HashSlot(key: "k")
        for arguments in commands {
            let keys = try await redis.send(RedisCommand("COMMAND", ["GETKEYS"] + arguments))
            #expect(keys.array?.compactMap(\.string) == arguments.filter { $0.hasPrefix("{k}") }, "\(arguments[0])")
            #expect(try CommandRouting(RedisCommand(arguments[0], Array(arguments.dropFirst()))) == .slot(tag), "\(arguments[0])")
        }
    }

    @Test("the slot map from CLUSTER SLOTS")
    func slotMap() throws {
        func node(_ host: String, _ port: Int64) -> RedisReply { .array([.bulk(Array(host.utf8)), .integer(port), .bulk(Array("id".utf8)), .array([])]) }
        let reply = RedisReply.array([
            .array([.integer(0), .integer(5460), node("127.0.0.1", 7000), node("127.0.0.1", 7003)]),
            .array([.integer(5461), .integer(10922), node("", 7001), node("127.0.0.1", 7004)]),
            .array([.integer(10923), .integer(16000), node("127.0.0.1", 7002)]),
            .array([.integer(16001), .integer(16383), node("127.0.0.1", 7000)]),
        ])
        let map = try ClusterSlotMap.fromClusterSlots(reply, askedHost: "10.0.0.9")
        #expect(map.primaries == [ClusterNodeAddress(host: "127.0.0.1", port: 7000), ClusterNodeAddress(host: "10.0.0.9", port: 7001),
                                  ClusterNodeAddress(host: "127.0.0.1", port: 7002)])
        #expect(map.shards[0].replicas == [ClusterNodeAddress(host: "127.0.0.1", port: 7003)])
        #expect(map.primary(for: HashSlot(rawValue: 0)!)?.port == 7000)
        #expect(map.primary(for: HashSlot(rawValue: 5461)!)?.port == 7001)
        #expect(map.primary(for: HashSlot(rawValue: 16000)!)?.port == 7002)
        #expect(map.primary(for: HashSlot(rawValue: 16383)!)?.port == 7000)
        #expect(map.coversAllSlots)

        let partial = try ClusterSlotMap.fromClusterSlots(.array([.array([.integer(0), .integer(100), node("h", 1)])]), askedHost: "h")
        #expect(!partial.coversAllSlots && partial.primary(for: HashSlot(rawValue: 101)!) == nil)
        #expect(throws: RedisError.self) { try ClusterSlotMap.fromClusterSlots(.array([.array([.integer(0)])]), askedHost: "h") }
    }

    @Test("redirections read from error replies")
    func redirections() {
        #expect(ClusterRedirection(errorMessage: "MOVED 3999 127.0.0.1:6381") == .moved(HashSlot(rawValue: 3999)!, to: ClusterNodeAddress(host: "127.0.0.1", port: 6381)))
        #expect(ClusterRedirection(errorMessage: "ASK 3999 [::1]:6381") == .ask(HashSlot(rawValue: 3999)!, to: ClusterNodeAddress(host: "::1", port: 6381)))
        #expect(ClusterRedirection(errorMessage: "TRYAGAIN Multiple keys request during rehashing of slot") == .tryAgain)
        #expect(ClusterRedirection(errorMessage: "CLUSTERDOWN The cluster is down") == .clusterDown)
        #expect(ClusterRedirection(errorMessage: "ERR unknown command") == nil)
        #expect(ClusterRedirection(errorMessage: "MOVED 99999 127.0.0.1:6381") == nil)
        #expect(ClusterRedirection(errorMessage: "MOVED 1 nowhere") == nil)
    }

    @Test("the router: what is retried where, and what is not")
    func router() {
        let slot = HashSlot(key: "foo")
        let node = ClusterNodeAddress(host: "127.0.0.1", port: 7001)
        let backoff = Backoff(initial: .milliseconds(10), maximum: .milliseconds(10))
        var router = ClusterRouter(routing: .slot(slot), maximumAttempts: 3, backoff: backoff)

        #expect(router.next(after: .replied(redirection: .moved(slot, to: node))) == .retry(.node(node), asking: false, delay: nil, reason: .moved))
        #expect(router.wantsMapRefresh)
        #expect(router.next(after: .replied(redirection: .ask(slot, to: node))) == .retry(.node(node), asking: true, delay: nil, reason: .ask))
        #expect(!router.wantsMapRefresh)
        // Out of attempts: the last reply is the answer.
        #expect(router.next(after: .replied(redirection: .tryAgain)) == .deliver)
        #expect(router.attempts == 3)

        var waits = ClusterRouter(routing: .slot(slot), maximumAttempts: 5, backoff: backoff)
        guard case .retry(.slot(slot), asking: false, delay: let delay?, reason: .tryAgain) = waits.next(after: .replied(redirection: .tryAgain)) else {
            Issue.record("TRYAGAIN is retried on the slot after a wait")
            return
        }
        #expect(delay >= .milliseconds(5) && delay <= .milliseconds(10))
        #expect(!waits.wantsMapRefresh)
        guard case .retry(.slot(slot), asking: false, delay: _?, reason: .clusterDown) = waits.next(after: .replied(redirection: .clusterDown)) else {
            Issue.record("CLUSTERDOWN is retried on the slot after a wait")
            return
        }
        #expect(waits.wantsMapRefresh)
        // Never sent: retried after a wait, the map read again.
        guard case .retry(.slot(slot), asking: false, delay: _?, reason: .unreachable)
            = waits.next(after: .failed(.unreachable("down"), sent: false)) else {
            Issue.record("an unreachable node's request is retried")
            return
        }
        #expect(waits.wantsMapRefresh)
        // Sent, then the connection broke or the time ran out: it may have run, so it is
        // never sent again; the map is read again all the same.
        #expect(waits.next(after: .failed(.connectionClosed, sent: true)) == .fail(.connectionClosed))
        #expect(waits.wantsMapRefresh)
        let timeout = RedisError.timeout(.seconds(1), detail: "no reply")
        #expect(waits.next(after: .failed(timeout, sent: true)) == .fail(timeout))
        #expect(waits.next(after: .failed(.shutdown, sent: false)) == .fail(.shutdown))
        #expect(waits.next(after: .replied(redirection: nil)) == .deliver)
    }
}
