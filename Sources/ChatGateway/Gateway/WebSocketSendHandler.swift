import DequeModule
import NIOCore
import NIOWebSocket

/// Told to the pipeline once the gateway has accepted the connection: sends may run.
struct GatewaySessionOpened: Sendable {
    let sender: MessageSender.Sender
}

/// Runs a connection's send frames through `MessageSender`, one at a time and in the
/// order they came, so that a client's messages reach their recipients in its order.
/// Each is acknowledged with its client id: `{"type":"ack","cid":…,"msg":"ok","data":
/// <message>}` or `{"type":"ack","cid":…,"msg":"fail","data":"<Chinese text>"}`.
///
/// Frames that arrive before the connection is accepted wait for it. Back-pressure: while
/// `maximumWaiting` sends wait, or the socket's write buffer is over its high-water mark
/// (a client that does not read its acknowledgements), the socket is not read from.
final class WebSocketSendHandler: ChannelDuplexHandler {
    typealias InboundIn = ClientSend
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    static let maximumWaiting = 64

    private let sender: MessageSender
    private var session: MessageSender.Sender?
    private var waiting = Deque<ClientSend>()
    private var sending = false
    private var readHeld = false

    init(sender: MessageSender) {
        self.sender = sender
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        waiting.append(unwrapInboundIn(data))
        sendNext(context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let opened = event as? GatewaySessionOpened else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        session = opened.sender
        sendNext(context: context)
    }

    func read(context: ChannelHandlerContext) {
        guard waiting.count < Self.maximumWaiting, context.channel.isWritable else {
            readHeld = true
            return
        }
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReading(context: context)
        context.fireChannelWritabilityChanged()
    }

    private func sendNext(context: ChannelHandlerContext) {
        while !sending, let session, let next = waiting.popFirst() {
            switch next.request {
            case .failure(let failure):
                acknowledge(next.clientID, .failure(failure), context: context)
            case .success(let request):
                sending = true
                sender.send(request, from: session, clientID: next.clientID, on: context.eventLoop)
                    .assumeIsolated()
                    .whenComplete { result in
                        self.sending = false
                        self.acknowledge(next.clientID, result.mapError { $0 as? APIFailure ?? APIFailure(SendRefusal.notSent) }, context: context)
                        self.sendNext(context: context)
                    }
            }
        }
        resumeReading(context: context)
    }

    private func acknowledge(_ clientID: String?, _ result: Result<[UInt8], APIFailure>, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        let frame = ServerFrame.acknowledgement(clientID: clientID, result, allocator: context.channel.allocator)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: frame)), promise: nil)
    }

    private func resumeReading(context: ChannelHandlerContext) {
        guard readHeld, waiting.count < Self.maximumWaiting, context.channel.isWritable else { return }
        readHeld = false
        context.read()
    }
}
