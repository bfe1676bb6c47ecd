import ChatScripts
import Foundation
import Model
import RedisClient
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import ChatGateway

/// Hostile sockets against real bridge processes (issue 17): a recipient that stops
/// reading costs the bridge its budget, not the messages sent to it, and loses none of
/// them; one user's sockets are bounded across processes; HTTP connections that never
/// finish asking, or idle ones, are closed.
@Suite("Back-pressure and socket bounds", .serialized, .offCooperativePool)
struct BackPressureTests {
    typealias Account = ChatDeliveryTests.Account

    /// The index `i` of a message whose data is `m{i}|xxx…`.
    static func index(of data: String) -> Int? {
        guard data.hasPrefix("m"), let bar = data.firstIndex(of: "|") else { return nil }
        return Int(data[data.index(after: data.startIndex)..<bar])
    }

    /// Indexes of the messages from `sender` among the next frames, until `count` of
    /// them came or the connection ended (`untilEnd`) or `seconds` passed.
    static func indexes(
        from sender: Int, on socket: WebSocketTestClient, count: Int, untilEnd: Bool = false, within seconds: Double
    ) async -> (indexes: [Int], ended: Bool) {
        var found: [Int] = []
        let deadline = Date().addingTimeInterval(seconds)
        while untilEnd || found.count < count, deadline.timeIntervalSinceNow > 0 {
            guard let event = try? await socket.next(within: deadline.timeIntervalSinceNow) else { break }
            switch event {
            case .text(let text):
                found += ChatDeliveryTests.texts(from: sender, in: [text]).compactMap(Self.index(of:))
            case .disconnected:
                return (found, true)
            default:
                continue
            }
        }
        return (found, false)
    }

    /// nil when `indexes` are `start, start + 1, …`; else where they first differ (a short
    /// message where a failure would print thousands of indexes).
    static func inOrder(_ indexes: [Int], from start: Int) -> String? {
        guard let position = indexes.indices.first(where: { indexes[$0] != start + $0 }) else { return nil }
        return "at \(position): \(indexes[position]) instead of \(start + position) (\(indexes.count) received)"
    }

    @Test("a recipient that stops reading: bridge memory bounded, dropped, then every accepted message once and in order", .timeLimit(.minutes(8)))
    func stalledRecipient() async throws {
        // The queue's byte cap (16 MiB by default) is another bound: here everything sent
        // (100 MB) must fit, so that every message can be counted.
        let bridge = try await BridgeProcess(redisURL: try TestEnvironment.redisURL(), settings: ["OFFLINE_QUEUE_BYTES": "\(256 << 20)"])
        let (sender, recipient) = try (ChatDeliveryTests.openUser(bridge), ChatDeliveryTests.openUser(bridge))
        let socket = try await bridge.connect(token: recipient.token, receiveBufferBytes: 64 * 1024)
        while try await !socket.nextText().contains(#""type":"system""#) {}
        _ = await socket.texts(for: 0.5)  // the guidance
        try await socket.stopReading()

        let padding = String(repeating: "x", count: 50_000)
        let count = 2000
        let before = try bridge.residentBytes()
        var peak = before
        var accepted = 0
        for index in 0..<count {
            let response = try bridge.post(
                "/api/chat/socket/sendmessage",
                ["sendto_id": recipient.id, "chatType": "single", "type": "text", "data": "m\(index)|\(padding)"],
                token: sender.token
            )
            guard response.status == 200, response.body["msg"] as? String == "ok" else {
                Issue.record("message \(index) not accepted: \(response.status) \(response.body["data"] ?? "")")
                break
            }
            accepted += 1
            if index.isMultiple(of: 50) { peak = max(peak, try bridge.residentBytes()) }
        }
        peak = max(peak, try bridge.residentBytes())
        #expect(accepted == count)
        // Measured before the fix: 101 MB more. Bounded by the budget (64 KiB) and the
        // allocator's slack, not by what was sent (100 MB).
        let grown = peak - before
        #expect(grown < 24 << 20, "bridge RSS grew \(grown >> 20) MiB")
        print("stalled recipient: bridge RSS \(before >> 20) MiB, peak \(peak >> 20) MiB")
        #expect(try bridge.metric("chat_ws_outbound_drops_total") == 1)
        #expect(try bridge.metric("chat_ws_returned_messages_total") >= 1)

        // The client drains what its socket holds, and sees a TCP close, no close frame.
        try await socket.resumeReading()
        let drained = await Self.indexes(from: sender.id, on: socket, count: 0, untilEnd: true, within: 60)
        let ended = drained.ended
        #expect(ended, "\(drained.indexes.count) drained")
        #expect(Self.inOrder(drained.indexes, from: 0) == nil)

        // Reconnecting fetches the rest: each message once, in order.
        let again = try await bridge.connect(token: recipient.token)
        let rest = await Self.indexes(from: sender.id, on: again, count: count - drained.indexes.count, within: 240)
        #expect(rest.indexes.count == count - drained.indexes.count)
        #expect(Self.inOrder(rest.indexes, from: drained.indexes.count) == nil)
        await again.close()
    }

    @Test("offline_return: failed writes to the front, held-back pushes after the queue, in order, within the cap", .timeLimit(.minutes(1)))
    func returnToQueue() async throws {
        let redis = try TestBridge.sharedRedis()
        defer { Task { await redis.shutdown() } }
        let scripts = DeliveryTests.node(redis).scripts
        let user = Int.random(in: 10_000_000...99_999_999)
        let key = testKeys.offlineQueue(user)
        _ = try await redis.send("RPUSH", key, "q1", "q2")
        let bytes = { (text: String) in Array(text.utf8) }

        let dropped = try await scripts.run(ReturnToQueue(keys: testKeys, user: user, queueCap: 10, queueByteCap: 1 << 20, front: ["f1", "f2"].map(bytes), back: ["b1"].map(bytes)))
        #expect(dropped == 0)
        #expect(try await redis.send("LRANGE", key, 0, -1).array?.compactMap(\.string) == ["f1", "f2", "q1", "q2", "b1"])

        // Over the cap, the oldest go, as when routing queues.
        #expect(try await scripts.run(ReturnToQueue(keys: testKeys, user: user, queueCap: 6, queueByteCap: 1 << 20, front: ["f0"].map(bytes), back: ["b2"].map(bytes))) == 1)
        #expect(try await redis.send("LRANGE", key, 0, -1).array?.compactMap(\.string) == ["f1", "f2", "q1", "q2", "b1", "b2"])
        _ = try await redis.send("DEL", key)
        _ = try await redis.send("HDEL", OfflineQueueTests.bytes(of: user), key)
    }

    @Test("one user's sockets are bounded across processes; one more is dropped without a close frame", .timeLimit(.minutes(2)))
    func socketsPerUser() async throws {
        let settings = ["WS_SOCKETS_PER_USER": "2"]
        let redisURL = try TestEnvironment.redisURL()
        let (a, b) = try await (BridgeProcess(redisURL: redisURL, settings: settings), BridgeProcess(redisURL: redisURL, settings: settings))
        let user = try a.register()
        let (first, _) = try await DeliveryTests.connected(a, user.token)
        let (second, _) = try await DeliveryTests.connected(b, user.token)

        let third = try await b.connect(token: user.token)
        #expect(try await third.eventsUntilEnd() == [.disconnected])
        #expect(try b.metric("chat_ws_sockets_refused_total") == 1)

        // A socket that closes frees its place.
        await first.close()
        _ = try await eventually(within: 10) {
            (try? await DeliveryTests.connected(a, user.token)) != nil
        }
        await second.close()
    }

    // MARK: HTTP

    /// A loopback TCP connection with a receive timeout, for what no HTTP client sends.
    final class RawConnection {
        let fd: Int32

        init(port: Int) throws {
            guard let fd = HTTPProbe.connectLoopback(port: port, receiveTimeout: timeval(tv_sec: 0, tv_usec: 100_000)) else {
                throw TestEnvironment.Missing(description: "no connection to \(port)")
            }
            self.fd = fd
        }

        deinit { close(fd) }

        @discardableResult
        func write(_ text: String) -> Bool {
            let bytes = Array(text.utf8)
            return bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
        }

        /// What arrived within the receive timeout; nil once the server has closed.
        func read() -> [UInt8]? {
            var chunk = [UInt8](repeating: 0, count: 16384)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return nil }
            if count < 0 { return errno == EAGAIN || errno == EWOULDBLOCK ? [] : nil }
            return Array(chunk[0..<count])
        }
    }

    @Test("slowloris: a request head still incomplete after the header timeout is closed, unanswered", .timeLimit(.minutes(1)))
    func headerTimeout() async throws {
        let bridge = try await BridgeProcess(redisURL: try TestEnvironment.redisURL(), settings: ["HTTP_HEADER_TIMEOUT_SECONDS": "1"])
        // Opened ahead of need and silent: on the idle clock (60 s), not the header's.
        let early = try RawConnection(port: bridge.port)
        let connection = try RawConnection(port: bridge.port)
        connection.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        let start = Date()
        var answer: [UInt8] = []
        var closedAfter: Double?
        while Date().timeIntervalSince(start) < 5 {
            connection.write("X-Slow: a\r\n")  // one more header line at a time, never the end
            guard let bytes = connection.read() else {
                closedAfter = Date().timeIntervalSince(start)
                break
            }
            answer += bytes
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(answer.isEmpty)
        let closed = try #require(closedAfter)
        #expect(closed >= 0.9 && closed < 2.5, "closed after \(closed) s")
        #expect(try bridge.metric(#"chat_http_timeouts_total{timeout="header"}"#) == 1)

        // A head sent whole in time is answered, also on the connection silent until now.
        #expect(HTTPProbe.get(port: bridge.port, path: "/healthz")?.status == 200)
        #expect(early.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
        var earlyAnswer = [UInt8]()
        let asked = Date()
        while !String(decoding: earlyAnswer, as: UTF8.self).contains("HTTP/1.1 200"), Date().timeIntervalSince(asked) < 2 {
            guard let bytes = early.read() else { break }
            earlyAnswer += bytes
        }
        let earlyText = String(decoding: earlyAnswer, as: UTF8.self)
        #expect(earlyText.hasPrefix("HTTP/1.1 200"), "\(earlyText)")
    }

    @Test("an HTTP connection idle after its response is closed after the idle timeout; one in use is not", .timeLimit(.minutes(1)))
    func idleTimeout() async throws {
        let bridge = try await BridgeProcess(
            redisURL: try TestEnvironment.redisURL(), settings: ["HTTP_IDLE_TIMEOUT_SECONDS": "1", "HTTP_HEADER_TIMEOUT_SECONDS": "10"]
        )
        let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

        // In use: a request every 0.5 s for 3 s, each answered on the same connection.
        let busy = try RawConnection(port: bridge.port)
        for _ in 0..<6 {
            busy.write(request)
            var answer: [UInt8] = []
            let start = Date()
            while !String(decoding: answer, as: UTF8.self).contains("HTTP/1.1 200"), Date().timeIntervalSince(start) < 2 {
                guard let bytes = busy.read() else { break }
                answer += bytes
            }
            #expect(String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
            try await Task.sleep(for: .milliseconds(500))
        }

        // Idle after its response: closed within about a second.
        busy.write(request)
        let start = Date()
        var closedAfter: Double?
        while Date().timeIntervalSince(start) < 5 {
            guard busy.read() != nil else {
                closedAfter = Date().timeIntervalSince(start)
                break
            }
        }
        let closed = try #require(closedAfter)
        #expect(closed >= 0.9 && closed < 2.5, "closed after \(closed) s")
        #expect(try bridge.metric(#"chat_http_timeouts_total{timeout="idle"}"#) == 1)
        #expect(try bridge.metric(#"chat_http_timeouts_total{timeout="header"}"#) == 0)
    }
}
