import Metrics
import NIOCore
import NIOHTTP1

/// Slowloris bounds on the bridge's HTTP/1.1 connections (docs/operations.md): a request's
/// head must arrive whole within `headerTimeout` of its first byte, and a connection may
/// be silent for `idleTimeout` before its first request (clients open connections ahead
/// of need), between requests or while a request's body is read. No timer runs while a response is
/// being produced. A connection over either is closed without a response (its client
/// never finished asking). Removed when the connection becomes a WebSocket.
final class HTTPTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Timeout: String {
        case header, idle
    }

    static let timeouts = (
        header: Counter(label: "chat_http_timeouts_total", dimensions: [("timeout", Timeout.header.rawValue)]),
        idle: Counter(label: "chat_http_timeouts_total", dimensions: [("timeout", Timeout.idle.rawValue)])
    )

    private let headerTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    /// Requests whose head has been read and whose response has not ended.
    private var openRequests = 0
    private var readingBody = false
    private var lastRead = NIODeadline.now()
    private var timer: (kind: Timeout, task: Scheduled<Void>)?

    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive, timer == nil { arm(.idle, context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if timer == nil { arm(.idle, context: context) }
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            openRequests += 1
            readingBody = true
            arm(.idle, context: context)
        case .body:
            break
        case .end:
            readingBody = false
            if openRequests > 0 { cancel() }
        }
        context.fireChannelRead(data)
    }

    /// Bytes arrived (the decoder passes this on after every read, a head complete or not).
    func channelReadComplete(context: ChannelHandlerContext) {
        lastRead = .now()
        // The first bytes of the next request: its head is now on the clock.
        if openRequests == 0, timer?.kind == .idle { arm(.header, context: context) }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), openRequests > 0 {
            openRequests -= 1
            if openRequests == 0 {
                lastRead = .now()
                arm(.idle, context: context)
            }
        }
        context.write(data, promise: promise)
    }

    private func arm(_ kind: Timeout, context: ChannelHandlerContext, at deadline: NIODeadline? = nil) {
        cancel()
        let delay = kind == .header ? headerTimeout : idleTimeout
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let task = context.eventLoop.scheduleTask(deadline: deadline ?? .now() + delay) {
            let (handler, context) = bound.value
            handler.fired(kind, context: context)
        }
        timer = (kind, task)
    }

    private func cancel() {
        timer?.task.cancel()
        timer = nil
    }

    private func fired(_ kind: Timeout, context: ChannelHandlerContext) {
        timer = nil
        switch kind {
        case .header:
            Self.timeouts.header.increment()
        case .idle:
            // Reads of a body (or of a head not yet whole) keep it alive.
            let due = lastRead + idleTimeout
            if due > .now() { return arm(.idle, context: context, at: due) }
            guard openRequests == 0 || readingBody else { return }
            Self.timeouts.idle.increment()
        }
        context.close(promise: nil)
    }
}
