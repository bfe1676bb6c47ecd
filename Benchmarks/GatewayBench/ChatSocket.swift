import NIOCore
import NIOWebSocket

/// What the runner tells a sending connection (a pipeline event: it may come from any
/// thread and is handled on the channel's loop).
enum ChatLoad: Sendable {
    /// Keep `window` messages unanswered at all times: each answer sends the next one.
    case closedLoop(PhaseLedger, window: Int)
    /// Open loop: a message at `first`, `first + interval`, … (monotonic nanoseconds),
    /// whatever the answers do; each is stamped with its scheduled time, so a late send
    /// counts as latency (no coordinated omission).
    case paced(PhaseLedger, first: UInt64, interval: UInt64)
    /// No more sends; answers of those under way are still counted.
    case stop
}

/// The sending side of a pair: WebSocket send frames to the pair's recipient, counted by
/// their acknowledgements. The bridge runs a connection's sends one at a time, in order,
/// so the acknowledgements come in the order of the frames: each is matched to the
/// ledger of the phase its frame was sent in.
final class ChatSender: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private enum Mode {
        case idle
        case closedLoop(window: Int)
        case paced(next: UInt64, interval: UInt64)
    }

    private let pair: Int
    private let recipient: Int
    private let sequence: PairSequence
    private var mode = Mode.idle
    private var ledger: PhaseLedger?
    /// The ledgers of the frames sent and not yet acknowledged, oldest first.
    private var unanswered = CircularBuffer<PhaseLedger>()
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    private var needsFlush = false

    private static let ack: [UInt8] = Array(#"{"type":"ack""#.utf8)
    private static let ok: [UInt8] = Array(#""msg":"ok""#.utf8)

    init(pair: Int, recipient: Int, sequence: PairSequence) {
        self.pair = pair
        self.recipient = recipient
        self.sequence = sequence
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        self.context = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let load = event as? ChatLoad else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        timer?.cancel()
        timer = nil
        switch load {
        case .closedLoop(let ledger, let window):
            self.ledger = ledger
            mode = .closedLoop(window: window)
            for _ in unanswered.count..<max(window, unanswered.count) { send(stamp: nil, context: context) }
            context.flush()
        case .paced(let ledger, let first, let interval):
            self.ledger = ledger
            mode = .paced(next: first, interval: interval)
            schedule(at: first, context: context)
        case .stop:
            mode = .idle
            ledger = nil
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.opcode == .text else { return }
        let text = frame.unmaskedData
        guard text.readableBytesView.starts(with: Self.ack), let answered = unanswered.popFirst() else { return }
        let ok = text.contains(Self.ok)
        answered.answered(ok: ok, failure: String(buffer: text))
        if case .closedLoop(let window) = mode, unanswered.count < window {
            send(stamp: nil, context: context)
            needsFlush = true
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    /// Paced: every message whose time has come, then a timer for the next.
    private func schedule(at deadline: UInt64, context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: NIODeadline.uptimeNanoseconds(deadline)) {
            guard case .paced(var next, let interval) = self.mode, let context = self.context else { return }
            let now = Monotonic.now()
            while next <= now {
                self.send(stamp: next, context: context)
                next += interval
            }
            context.flush()
            self.mode = .paced(next: next, interval: interval)
            self.schedule(at: next, context: context)
        }
    }

    private func send(stamp: UInt64?, context: ChannelHandlerContext) {
        guard let ledger, context.channel.isActive else { return }
        let number = sequence.take()
        let now = Monotonic.now()
        let marker = Marker(phase: ledger.id, pair: pair, sequence: number, stamp: stamp ?? now)
        var buffer = context.channel.allocator.buffer(capacity: 192)
        buffer.writeString(#"{"type":"send","cid":"w\#(pair)-\#(number)","message":{"sendto_id":\#(recipient),"#)
        buffer.writeString(#""chatType":"single","type":"text","data":"\#(marker.text)"}}"#)
        // A client masks what it sends (RFC 6455), as a browser does.
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer)), promise: nil)
        unanswered.append(ledger)
        if let stamp { ledger.sent(scheduled: stamp, at: now) } else { ledger.sent() }
    }
}

/// The receiving side of a pair: counts each delivered message once (a bitmap of the
/// pair's sequence numbers), with its latency, in the ledger of the phase it was sent in.
final class ChatRecipient: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame

    private let pair: Int
    private let book: PhaseBook
    private var seen: [Bool] = []

    init(pair: Int, book: PhaseBook) {
        self.pair = pair
        self.book = book
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.opcode == .text, let marker = Marker(in: frame.unmaskedData) else { return }
        let arrival = Monotonic.now()
        guard let ledger = book.ledger(marker.phase) else { return }
        guard marker.pair == pair else {
            ledger.misrouted()
            return
        }
        if marker.sequence >= seen.count {
            seen.append(contentsOf: repeatElement(false, count: max(marker.sequence + 1 - seen.count, 4096)))
        }
        if seen[marker.sequence] {
            ledger.duplicate()
        } else {
            seen[marker.sequence] = true
            ledger.delivered(stamp: marker.stamp, at: arrival)
        }
    }
}

extension ByteBuffer {
    func contains(_ needle: [UInt8]) -> Bool {
        withUnsafeReadableBytes { $0.firstOffset(of: needle) != nil }
    }
}
