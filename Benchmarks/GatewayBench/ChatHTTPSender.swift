import NIOCore
import NIOHTTP1

/// One keep-alive HTTP/1.1 connection sending `POST /api/chat/socket/sendmessage` for
/// its pairs in turn, one request at a time (a browser's fetch does not pipeline), each
/// with the sender's `token` header. Started and stopped by `ChatLoad` events; `window`
/// is ignored (one request in flight per connection: concurrency is connections).
final class ChatHTTPSender: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// A pair this connection sends for.
    struct Target: Sendable {
        let pair: Int
        let recipient: Int
        let token: String
        let sequence: PairSequence
    }

    private let host: String
    private let targets: [Target]
    private var next = 0
    private var ledger: PhaseLedger?
    /// The ledger of the request in flight, if one is.
    private var inFlight: PhaseLedger?
    private var reply = ByteBuffer()
    private static let ok: [UInt8] = Array(#"{"msg":"ok""#.utf8)

    init(host: String, targets: [Target]) {
        precondition(!targets.isEmpty)
        self.host = host
        self.targets = targets
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let load = event as? ChatLoad else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch load {
        case .closedLoop(let ledger, _):
            self.ledger = ledger
            if inFlight == nil { send(context: context) }
        case .paced:
            preconditionFailure("the HTTP phase is closed-loop only")
        case .stop:
            ledger = nil
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            reply.clear()
        case .body(var bytes):
            reply.writeBuffer(&bytes)
        case .end:
            guard let answered = inFlight else { return }
            inFlight = nil
            answered.answered(ok: reply.readableBytesView.starts(with: Self.ok), failure: String(buffer: reply))
            send(context: context)
        }
    }

    private func send(context: ChannelHandlerContext) {
        guard let ledger, context.channel.isActive else { return }
        let target = targets[next]
        next = (next + 1) % targets.count
        let marker = Marker(phase: ledger.id, pair: target.pair, sequence: target.sequence.take(), stamp: Monotonic.now())
        var body = context.channel.allocator.buffer(capacity: 128)
        body.writeString(#"{"sendto_id":\#(target.recipient),"chatType":"single","type":"text","data":"\#(marker.text)"}"#)
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/api/chat/socket/sendmessage")
        head.headers.add(name: "Host", value: host)
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(body.readableBytes))
        head.headers.add(name: "token", value: target.token)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        inFlight = ledger
        ledger.sent()
    }
}
