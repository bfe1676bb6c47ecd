import Foundation
import NIOCore
import NIOPosix
import NIOWebSocket
import Synchronization

/// A WebSocket client for tests, on NIO: it sees every frame the server sends and how
/// the connection ended — with a close frame (and its code) or with a plain TCP drop,
/// the difference the deployed client's logout logic turns on — and can send what a
/// well-behaved client never would (oversized, fragmented, invalid UTF-8), or stop reading
/// its socket like a stalled mobile connection.
public final class WebSocketTestClient: Sendable {
    public enum Event: Sendable, Equatable {
        case text(String)
        case binary([UInt8])
        case ping
        case closeFrame(code: UInt16?)
        /// The TCP connection ended.
        case disconnected
    }

    public struct Timeout: Error, CustomStringConvertible {
        public let description: String
    }

    public let channel: any Channel
    private let inbox: Inbox

    /// Events in arrival order. Readers poll it: a timed-out read must not end the
    /// stream of events, as cancelling an `AsyncStream` iterator would.
    final class Inbox: Sendable {
        private let events = Mutex<[Event]>([])

        func append(_ event: Event) { events.withLock { $0.append(event) } }

        func take() -> Event? {
            events.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        }
    }

    /// Connects and upgrades; throws if the server does not answer 101.
    /// - Parameters:
    ///   - answersPings: false makes this client a dead peer for protocol pings.
    ///   - receiveBufferBytes: `SO_RCVBUF` of the socket (nil: the kernel's, self-tuning):
    ///     how much a client that stops reading still takes in.
    public static func connect(
        port: Int, path: String, headers: [(String, String)] = [], answersPings: Bool = true, receiveBufferBytes: Int? = nil
    ) async throws -> WebSocketTestClient {
        let inbox = Inbox()
        let upgraded = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if let receiveBufferBytes {
            bootstrap = bootstrap.channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBufferBytes))
        }
        bootstrap = bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        Handshake(promise: upgraded, collector: Collector(inbox: inbox, answersPings: answersPings))
                    )
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
        } catch {
            // The handshake handler may exist without its channel ever becoming active: its
            // promise is failed here, not leaked (a leaked promise stops the test process).
            upgraded.fail(error)
            throw error
        }
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: \(Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString())\r\n"
        request += "Sec-WebSocket-Version: 13\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        try await channel.writeAndFlush(ByteBuffer(string: request + "\r\n")).get()
        do {
            try await withTimeout(seconds: 10, "upgrade") { try await upgraded.futureResult.get() }
        } catch {
            try? await channel.close()
            throw error
        }
        return WebSocketTestClient(channel: channel, inbox: inbox)
    }

    private init(channel: any Channel, inbox: Inbox) {
        self.channel = channel
        self.inbox = inbox
    }

    // MARK: Reading

    /// The next event; throws after `seconds` without one.
    public func next(within seconds: Double = 5) async throws -> Event {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while true {
            if let event = inbox.take() { return event }
            guard ContinuousClock.now < deadline else { throw Timeout(description: "no WebSocket event within \(seconds) s") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The next text frame, skipping the server's pings (`{"type":"ping"}` too).
    public func nextText(within seconds: Double = 5) async throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw Timeout(description: "no text frame within \(seconds) s") }
            switch try await next(within: left) {
            case .text(let text) where text != #"{"type":"ping"}"#: return text
            case .text, .ping, .binary: continue
            case let other: throw Timeout(description: "connection ended while waiting for text: \(other)")
            }
        }
    }

    /// The next text frame parsed as a JSON object.
    public func nextObject(within seconds: Double = 5) async throws -> [String: Any] {
        let text = try await nextText(within: seconds)
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw Timeout(description: "not a JSON object: \(text)")
        }
        return object
    }

    /// Every event until the connection ends (texts and how it ended).
    public func eventsUntilEnd(within seconds: Double = 10) async throws -> [Event] {
        var seen: [Event] = []
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let event = try await next(within: max(0.01, deadline.timeIntervalSinceNow))
            if case .text(#"{"type":"ping"}"#) = event { continue }
            if event == .ping { continue }
            seen.append(event)
            if event == .disconnected { return seen }
        }
    }

    /// Texts (in order) received within `seconds`, without waiting for the connection to end.
    public func texts(for seconds: Double) async -> [String] {
        var texts: [String] = []
        let deadline = Date().addingTimeInterval(seconds)
        while deadline.timeIntervalSinceNow > 0 {
            guard let event = try? await next(within: deadline.timeIntervalSinceNow) else { break }
            if case .text(let text) = event, text != #"{"type":"ping"}"# { texts.append(text) }
            if event == .disconnected { break }
        }
        return texts
    }

    // MARK: Stalling

    /// Stops reading the socket (a stalled mobile connection): what the server sends
    /// piles up in the kernel's buffers, then in the server.
    public func stopReading() async throws {
        try await channel.setOption(ChannelOptions.autoRead, value: false).get()
    }

    /// Reads again: what the kernel holds arrives, then whatever follows.
    public func resumeReading() async throws {
        try await channel.setOption(ChannelOptions.autoRead, value: true).get()
        channel.read()
    }

    // MARK: Writing

    public func send(text: String) async throws {
        var buffer = channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        try await send(opcode: .text, bytes: buffer)
    }

    public func send(opcode: WebSocketOpcode, bytes: ByteBuffer, fin: Bool = true) async throws {
        try await channel.writeAndFlush(WebSocketFrame(fin: fin, opcode: opcode, maskKey: .random(), data: bytes)).get()
    }

    /// A client-initiated close (code 1000).
    public func sendClose() async throws {
        var data = channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: .normalClosure)
        try await send(opcode: .connectionClose, bytes: data)
    }

    public func close() async {
        try? await channel.close()
    }

    // MARK: Handlers

    /// Turns frames into events; answers protocol pings (as browsers do) unless told not to.
    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame

        let inbox: Inbox
        let answersPings: Bool

        init(inbox: Inbox, answersPings: Bool) {
            self.inbox = inbox
            self.answersPings = answersPings
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            var payload = frame.unmaskedData
            switch frame.opcode {
            case .text:
                inbox.append(.text(String(decoding: payload.readableBytesView, as: UTF8.self)))
            case .binary:
                inbox.append(.binary(Array(payload.readableBytesView)))
            case .ping:
                inbox.append(.ping)
                if answersPings {
                    let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
                    context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
                }
            case .connectionClose:
                inbox.append(.closeFrame(code: payload.readInteger(as: UInt16.self)))
            default:
                break
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            inbox.append(.disconnected)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    /// Reads the server's handshake response; on `101` it puts the frame codec and the
    /// collector in its place and hands them the bytes that followed, all within one
    /// read, so no frame or close sent right after the upgrade can be missed.
    private final class Handshake: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer

        private let promise: EventLoopPromise<Void>
        private let collector: Collector
        private var received: ByteBuffer?

        init(promise: EventLoopPromise<Void>, collector: Collector) {
            self.promise = promise
            self.collector = collector
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            received.setOrWriteBuffer(&bytes)
            guard var buffer = received, let end = buffer.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) else { return }
            let headLength = end.upperBound - buffer.readerIndex
            let head = buffer.readString(length: headLength) ?? ""
            guard head.hasPrefix("HTTP/1.1 101") else {
                promise.fail(Timeout(description: "upgrade refused: \(head)"))
                context.close(promise: nil)
                return
            }
            do {
                try context.pipeline.syncOperations.addHandlers(
                    [ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 24)), WebSocketFrameEncoder(), collector],
                    position: .after(self)
                )
            } catch {
                promise.fail(error)
                return
            }
            promise.succeed()
            if buffer.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(buffer)) }
            received = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(Timeout(description: "connection closed before the upgrade"))
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(error)
            context.close(promise: nil)
        }
    }
}

/// Runs `body`, failing with `WebSocketTestClient.Timeout` after `seconds`.
public func withTimeout<T: Sendable>(
    seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            throw WebSocketTestClient.Timeout(description: "\(what): nothing within \(seconds) s")
        }
        let result = try await group.next()!
        group.cancelAll()
        return result
    }
}
