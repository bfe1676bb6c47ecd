import NIOCore
import NIOPosix
import RedisClient
import Testing

@Suite("Pipelining against a real redis-server")
struct PipeliningTests {
    @Test("100,000 commands in one pipeline come back in order", .timeLimit(.minutes(1)))
    func hundredThousandInOrder() async throws {
        let redis = try sharedClient(poolSize: 1)
        defer { Task { await redis.shutdown() } }
        let key = uniquePrefix() + "counter"
        let commands = Array(repeating: RedisCommand("INCR", key), count: 100_000)
        let replies = try await redis.pipeline(commands)
        #expect(replies.count == 100_000)
        #expect(replies == (1...100_000).map { RedisReply.integer(Int64($0)) })
        _ = try await redis.send("DEL", key)
    }

    @Test("the EventLoopFuture pipeline, driven from an event loop, keeps order", .timeLimit(.minutes(1)))
    func futurePipelineOnLoop() async throws {
        let redis = try sharedClient(poolSize: 2)
        defer { Task { await redis.shutdown() } }
        let key = uniquePrefix() + "list"
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let commands = (0..<1000).map { RedisCommand("RPUSH", key, "v\($0)") }
        let replies = try await loop.flatSubmit { redis.pipeline(commands, on: loop) }.get()
        #expect(replies == (1...1000).map { RedisReply.integer(Int64($0)) })
        #expect(try await redis.send("LINDEX", key, 999) == .bulk(Array("v999".utf8)))
        #expect(try await redis.pipeline([], on: loop).get() == [])
        _ = try await redis.send("DEL", key)
    }

    @Test("100,000 concurrent single commands each get their own reply", .timeLimit(.minutes(1)))
    func concurrentSendsMatchTheirReplies() async throws {
        let redis = try sharedClient(poolSize: 2)
        defer { Task { await redis.shutdown() } }
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<16 {
                group.addTask {
                    var wrong = 0
                    for index in 0..<6_250 {
                        let payload = "w\(worker)-\(index)"
                        if try await redis.send("ECHO", payload) != .bulk(Array(payload.utf8)) { wrong += 1 }
                    }
                    return wrong
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }

    @Test("every reply type is typed", .timeLimit(.minutes(1)))
    func replyTypes() async throws {
        let redis = try sharedClient()
        defer { Task { await redis.shutdown() } }
        let key = uniquePrefix() + "k"
        #expect(try await redis.send("SET", key, "1") == .status("OK"))
        #expect(try await redis.send("INCRBY", key, 41) == .integer(42))
        #expect(try await redis.send("GET", key + "missing") == .null)
        #expect(try await redis.send("GET", key) == .bulk(Array("42".utf8)))
        #expect(try await redis.send("NOSUCHCOMMAND").errorMessage?.hasPrefix("ERR unknown command") == true)
        let nested = try await redis.send("EVAL", "return {1, 'two', {3, false}, redis.status_reply('OK')}", 0)
        #expect(nested == .array([.integer(1), .bulk(Array("two".utf8)), .array([.integer(3), .null]), .status("OK")]))
        #expect(try await redis.send("LRANGE", key + "none", 0, -1) == .array([]))
        _ = try await redis.send("DEL", key)
    }

    @Test("values with NUL bytes and invalid UTF-8 round-trip", .timeLimit(.minutes(1)))
    func binarySafety() async throws {
        let redis = try sharedClient()
        defer { Task { await redis.shutdown() } }
        let key: [UInt8] = Array(uniquePrefix().utf8) + [0, 0xFF, 0x00, 0x0D, 0x0A]
        let value: [UInt8] = [0x00, 0xFF, 0xFE, 0xC3, 0x28, 0x0D, 0x0A, 0x00, 0x24, 0x2A] + Array(repeating: 0x80, count: 1000)
        #expect(try await redis.send("SET", key, value) == .status("OK"))
        #expect(try await redis.send("GET", key) == .bulk(value))
        #expect(try await redis.send("STRLEN", key) == .integer(Int64(value.count)))
        #expect(try await redis.send("SET", key, [UInt8]()) == .status("OK"))
        #expect(try await redis.send("GET", key) == .bulk([]))
        _ = try await redis.send("DEL", key)
    }

    @Test("a flat reply of 5,000 stream entries (megabytes, many reads) equals the tree, between pipelined tree replies", .timeLimit(.minutes(1)))
    func flatStreamRead() async throws {
        let redis = try sharedClient(poolSize: 1)
        defer { Task { await redis.shutdown() } }
        let key = uniquePrefix() + "stream"
        let adds = (0..<5000).map { index in
            RedisCommand("XADD", key, "*", "n", index, "data", String(repeating: "消息\(index)", count: index % 40), "bin", [UInt8(index % 256), 0, 13, 10])
        }
        for reply in try await redis.pipeline(adds) { try reply.throwingOnError() }
        let range = RedisCommand("XRANGE", key, "-", "+")
        let tree = try await redis.send(range)
        // On one connection: a tree reply, the flat one and another tree reply, in flight together.
        async let before = redis.send("XLEN", key)
        async let flat = redis.sendFlat(range)
        async let after = redis.send("PING")
        let (length, flatReply, pong) = try await (before, flat, after)
        #expect(length == .integer(5000))
        #expect(pong == .status("PONG"))
        #expect(flatReply.reply == tree)
        #expect(flatReply.elements(of: flatReply.root).count == 5000)
        let error = try await redis.sendFlat(RedisCommand("XLEN", key, "extra"))
        #expect(error.errorMessage(at: error.root)?.hasPrefix("ERR") == true)
        _ = try await redis.send("DEL", key)
    }
}
