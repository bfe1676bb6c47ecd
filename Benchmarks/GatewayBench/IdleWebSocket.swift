import ArgumentParser
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// When a connection counts as accepted.
enum Readiness: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// The first text or binary frame arrived: the bridge sends its welcome only once the
    /// token is checked and the connection registered, so this is a served connection.
    case firstFrame = "first-frame"
    /// The 101 arrived: for a server that sends nothing on connect (nchan).
    case upgrade
}

struct ConnectFailure: Error, CustomStringConvertible {
    let description: String
}

/// Connections that closed after they had been accepted (the server dropped them).
final class DropCounter: Sendable {
    private let count = Atomic<Int>(0)

    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// Opens one idle WebSocket connection: TCP connect, upgrade, then nothing but answers to
/// the server's protocol pings — what a browser tab that shows a chat does between
/// messages.
struct IdleWebSocket: Sendable {
    let host: String
    let port: Int
    let readiness: Readiness
    /// With `first-frame`: text the first frame must contain (a refusal is a frame too).
    let expect: String?
    /// From the start of the TCP connect to readiness.
    let timeout: TimeAmount
    let drops: DropCounter

    /// The channel, once it is ready; fails (and closes it) otherwise. `configure` runs on
    /// the channel's loop right after the upgrade: it adds the handlers that get the data
    /// frames (all of them, the first one too); without it, they are dropped.
    func open(
        path: String, on loop: any EventLoop, configure: (@Sendable (any Channel) throws -> Void)? = nil
    ) -> EventLoopFuture<any Channel> {
        let readiness = readiness
        let expect = expect
        let drops = drops
        let ready = loop.makePromise(of: Void.self)
        let timer = loop.scheduleTask(in: timeout) {
            ready.fail(ConnectFailure(description: "not \(readiness == .upgrade ? "upgraded" : "greeted") within the timeout"))
        }
        ready.futureResult.whenComplete { _ in timer.cancel() }

        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                let upgrader = NIOWebSocketClientUpgrader(
                    maxFrameSize: 1 << 20,
                    automaticErrorHandling: false,
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            // The handshake is over: from now on a close is a drop.
                            channel.pipeline.syncOperations.removeHandler(name: HandshakeWatch.name, promise: nil)
                            try channel.pipeline.syncOperations.addHandler(
                                IdleFrameHandler(
                                    ready: readiness == .firstFrame ? ready : nil, expect: expect, drops: drops,
                                    forwarding: configure != nil
                                )
                            )
                            try configure?(channel)
                            if readiness == .upgrade { ready.succeed() }
                        }
                    }
                )
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes,
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                    )
                    try channel.pipeline.syncOperations.addHandler(HandshakeWatch(ready: ready), name: HandshakeWatch.name)
                }
            }
        let host = host
        let port = port
        return bootstrap.connect(host: host, port: port).flatMap { channel in
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
            head.headers.add(name: "Host", value: "\(host):\(port)")
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            return ready.futureResult.map { channel }.flatMapError { error in
                channel.close(promise: nil)
                return loop.makeFailedFuture(error)
            }
        }.flatMapError { error in
            // A failed TCP connect: the timer must not outlive it.
            ready.fail(error)
            return loop.makeFailedFuture(error)
        }
    }
}

/// Fails the handshake when the server answers anything but 101, or goes away first.
private final class HandshakeWatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    static let name = "handshake-watch"

    let ready: EventLoopPromise<Void>

    init(ready: EventLoopPromise<Void>) { self.ready = ready }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            ready.fail(ConnectFailure(description: "HTTP \(head.status.code) instead of 101"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        ready.fail(ConnectFailure(description: "closed before the upgrade"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        ready.fail(error)
        context.close(promise: nil)
    }
}

/// After the upgrade: readiness on the first data frame, pongs for pings, and a count of
/// connections the server closes once they were accepted. Data frames go on to the next
/// handler when `forwarding` (the chat benchmark's), else they end here.
private final class IdleFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// Pending until the first data frame (`first-frame`); nil when already ready.
    private var ready: EventLoopPromise<Void>?
    private let expect: String?
    private let drops: DropCounter
    private let forwarding: Bool

    init(ready: EventLoopPromise<Void>?, expect: String?, drops: DropCounter, forwarding: Bool) {
        self.ready = ready
        self.expect = expect
        self.drops = drops
        self.forwarding = forwarding
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            if forwarding { context.fireChannelRead(data) }
            guard let pending = ready else { return }
            ready = nil
            let text = String(decoding: frame.unmaskedData.readableBytesView, as: UTF8.self)
            if let expect, !text.contains(expect) {
                pending.fail(ConnectFailure(description: "first frame without \(expect): \(text.prefix(120))"))
                context.close(promise: nil)
            } else {
                pending.succeed()
            }
        case .ping:
            // The bridge drops a peer that stays silent for two ping intervals.
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let ready {
            ready.fail(ConnectFailure(description: "closed after the upgrade, before the first frame"))
            self.ready = nil
        } else {
            drops.increment()
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        ready?.fail(error)
        ready = nil
        context.close(promise: nil)
    }
}
