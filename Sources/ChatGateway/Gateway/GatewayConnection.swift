import Metrics
import Model
import NIOCore
import NIOWebSocket
import Synchronization

/// One authenticated WebSocket connection held by this process: what deliveries push to.
///
/// Pushes come from any thread; the state lives on the channel's event loop. While the
/// offline queue is being flushed, live pushes are held back and follow the flushed
/// messages, so a user sees queued messages before newer ones.
///
/// Back-pressure (docs/architecture.md, *Delivery*): the frames written whose writes have
/// not completed (not yet taken by the kernel) and the held-back pushes together stay
/// within `outboundBytes`. A push that would exceed it drops the connection without a
/// close frame; the pushes it had not handed to the kernel are given back by `finish()`,
/// in order, for the offline queue, and so are pushes arriving after the close until
/// `finish()`. A push arriving after that is handed to `undeliverable`, which routes it
/// again (to a newer connection, or the queue).
final class GatewayConnection: Sendable {
    private enum Phase {
        /// Flushing the offline queue; `again` when another flush was asked for meanwhile.
        case flushing(heldBack: [[UInt8]], again: Bool, waiters: [EventLoopPromise<Void>])
        case open
        case closed
    }

    private struct State {
        var phase = Phase.flushing(heldBack: [], again: false, waiters: [])
        /// Bytes of written frames whose writes have not completed, and of held-back pushes.
        var bufferedBytes = 0
        /// Pushes are numbered as they are written, so that failed ones go back in order.
        var lastPush: UInt64 = 0
        /// Pushes not handed to the kernel: their write failed, or they came as it was dropped.
        var unwritten: [(push: UInt64, message: [UInt8])] = []
        /// Over the budget: being dropped, nothing more is written.
        var dropping = false
        /// Kicked already: a revocation and a heartbeat (or a newer login) may both kick,
        /// and the client must see one `force_logout` and one close frame.
        var kicked = false
    }

    /// What a closed connection had not handed to the kernel, oldest first.
    struct Unwritten: Sendable {
        /// Written (or about to be) and failed: older than anything queued meanwhile.
        var front: [[UInt8]] = []
        /// Held back behind a flush: newer than what is still queued.
        var back: [[UInt8]] = []

        var isEmpty: Bool { front.isEmpty && back.isEmpty }
    }

    let id: UInt64
    let user: Int
    let role: Role
    /// The id of the token it connected with (`TokenService.tokenID(of:)`; a new login
    /// has another).
    let tokenID: String
    let channel: any Channel
    let outboundBytes: Int
    private let state: NIOLoopBoundBox<State>
    private let registeredFlag = Atomic<Bool>(false)
    private let undeliverable: @Sendable ([[UInt8]]) -> Void

    static let drops = Counter(label: "chat_ws_outbound_drops_total")
    static let buffered = Meter(label: "chat_ws_outbound_buffered_bytes")

    /// A new connection starts flushing: pushes arriving while its registration and the
    /// first flush are under way wait for the flushed messages.
    init(
        id: UInt64, user: Int, role: Role, tokenID: String, channel: any Channel, outboundBytes: Int,
        undeliverable: @escaping @Sendable ([[UInt8]]) -> Void
    ) {
        self.id = id
        self.user = user
        self.role = role
        self.tokenID = tokenID
        self.channel = channel
        self.outboundBytes = outboundBytes
        self.undeliverable = undeliverable
        state = .makeBoxSendingValue(State(), eventLoop: channel.eventLoop)
    }

    var eventLoop: any EventLoop { channel.eventLoop }

    /// True once `online_connect.lua` accepted it: only then may the heartbeat keep (or
    /// claim again) its user's target — never for a connection still being checked.
    var isRegistered: Bool { registeredFlag.load(ordering: .acquiring) }

    func markRegistered() {
        registeredFlag.store(true, ordering: .releasing)
    }

    /// Pushes a message object (JSON bytes) as a `singleChat` frame.
    func push(_ message: [UInt8]) {
        onLoop { self.pushOnLoop(message, admitted: false) }
    }

    /// Writes frames that are not delivered messages (welcome, guidance), in order and
    /// flushed once: not held back, not re-routed if the connection has gone.
    func send(_ frames: [ByteBuffer]) {
        guard !frames.isEmpty else { return }
        for frame in frames { channel.write(WebSocketFrame(fin: true, opcode: .text, data: frame), promise: nil) }
        channel.flush()
    }

    // MARK: Flushing the offline queue

    enum FlushTurn {
        /// The caller flushes now.
        case mine
        /// A flush is under way; it will take whatever is queued now as well.
        case joined(EventLoopFuture<Void>)
        case closed
    }

    /// Asks for a flush turn. Flushes of one connection never run side by side.
    func beginFlush() async -> FlushTurn {
        await onLoopResult {
            switch self.state.value.phase {
            case .open:
                self.state.value.phase = .flushing(heldBack: [], again: false, waiters: [])
                return .mine
            case .flushing(let heldBack, _, var waiters):
                let promise = self.eventLoop.makePromise(of: Void.self)
                waiters.append(promise)
                self.state.value.phase = .flushing(heldBack: heldBack, again: true, waiters: waiters)
                return .joined(promise.futureResult)
            case .closed:
                return .closed
            }
        }
    }

    /// Writes flushed messages in order, at most half the budget at a time, each part
    /// once the kernel has taken the one before; returns how many of the first messages
    /// the kernel took: all of them, or fewer once the connection has closed or been
    /// dropped (the caller keeps the others queued).
    func writeFlushed(_ messages: [[UInt8]]) async -> Int {
        var written = 0
        while written < messages.count {
            let start = written
            let part: [EventLoopFuture<Void>]? = await onLoopResult { self.writeFlushedPart(messages, from: start) }
            guard let part, let last = part.last else { return written }
            _ = try? await last.get()
            // Writes complete in order: all of the part have by now.
            for future in part {
                guard (try? await future.get()) != nil else { return written }
                written += 1
            }
        }
        return written
    }

    /// Ends the flush turn: true when another flush was asked for meanwhile (the caller
    /// takes the queue once more); otherwise the held-back pushes follow and the
    /// connection is open.
    func endFlush() async -> Bool {
        await onLoopResult {
            guard case .flushing(let heldBack, let again, let waiters) = self.state.value.phase else { return false }
            if again {
                self.state.value.phase = .flushing(heldBack: heldBack, again: false, waiters: waiters)
                return true
            }
            self.state.value.phase = .open
            self.account(-heldBack.reduce(0) { $0 + $1.count })
            for message in heldBack { self.pushOnLoop(message, admitted: true) }
            for waiter in waiters { waiter.succeed() }
            return false
        }
    }

    // MARK: Ending

    /// `force_logout`, then a close frame: the deployed client logs out (docs/api.md).
    func kick() {
        onLoop {
            guard self.channel.isActive, !self.state.value.kicked else { return }
            self.state.value.kicked = true
            self.channel.closeWebSocket(code: .normalClosure, after: ServerFrame.forceLogout(allocator: self.channel.allocator))
        }
    }

    /// After the channel closed: nothing more is written; returns the pushes it had not
    /// handed to the kernel, for the offline queue.
    func finish() async -> Unwritten {
        await onLoopResult {
            var unwritten = Unwritten()
            if case .flushing(let heldBack, _, let waiters) = self.state.value.phase {
                unwritten.back = heldBack
                self.account(-heldBack.reduce(0) { $0 + $1.count })
                for waiter in waiters { waiter.succeed() }
            }
            self.state.value.phase = .closed
            unwritten.front = self.state.value.unwritten.sorted { $0.push < $1.push }.map(\.message)
            self.state.value.unwritten = []
            return unwritten
        }
    }

    // MARK: On the event loop

    /// `admitted`: held back already, within the budget then; not checked again.
    private func pushOnLoop(_ message: [UInt8], admitted: Bool) {
        switch state.value.phase {
        case .open where channel.isActive:
            state.value.lastPush += 1
            let push = state.value.lastPush
            guard !state.value.dropping else {
                state.value.unwritten.append((push, message))
                return
            }
            let frame = ServerFrame.singleChat(message, at: WallClock.milliseconds(), allocator: channel.allocator)
            guard admitted || fits(frame.readableBytes) else {
                drop()
                state.value.unwritten.append((push, message))
                return
            }
            write(frame, push: (push, message.count))
            channel.flush()
        case .flushing(var heldBack, let again, let waiters):
            if channel.isActive, !state.value.dropping, !fits(message.count) { drop() }
            heldBack.append(message)
            account(message.count)
            state.value.phase = .flushing(heldBack: heldBack, again: again, waiters: waiters)
        case .open:
            // Closed, and `finish()` not run yet: returned with the unwritten pushes, after
            // them and in order (routed again one by one, two could overtake each other).
            state.value.lastPush += 1
            state.value.unwritten.append((state.value.lastPush, message))
        case .closed:
            undeliverable([message])
        }
    }

    /// Whether `bytes` more stay within the budget; a message alone always does.
    private func fits(_ bytes: Int) -> Bool {
        let buffered = state.value.bufferedBytes
        return buffered == 0 || buffered + bytes <= outboundBytes
    }

    /// Over the budget: a TCP close without a close frame (`WebSocketDropHandler`: what
    /// the kernel holds still reaches a client that resumes reading; the client then
    /// reconnects). Nothing more is written; the writes NIO still holds fail at the close,
    /// and their pushes are kept for the offline queue.
    private func drop() {
        guard channel.isActive, !state.value.dropping else { return }
        state.value.dropping = true
        Self.drops.increment()
        channel.pipeline.fireUserInboundEventTriggered(WebSocketDrop())
    }

    private func writeFlushedPart(_ messages: [[UInt8]], from start: Int) -> [EventLoopFuture<Void>]? {
        guard case .flushing = state.value.phase, channel.isActive, !state.value.dropping else { return nil }
        var futures: [EventLoopFuture<Void>] = []
        var bytes = 0
        var index = start
        while index < messages.count, futures.isEmpty || bytes < outboundBytes / 2 {
            let frame = ServerFrame.singleChat(messages[index], at: WallClock.milliseconds(), allocator: channel.allocator)
            bytes += frame.readableBytes
            futures.append(write(frame, push: nil))
            index += 1
        }
        channel.flush()
        return futures
    }

    /// Writes a `singleChat` frame, counted until the kernel has taken it. A failed
    /// `push` (its number and its message's length) is kept for the offline queue (a
    /// flushed message stays in the queue). The frame is the only copy kept of the
    /// message meanwhile: a stalled socket holds its budget once, not twice.
    @discardableResult
    private func write(_ frame: ByteBuffer, push: (number: UInt64, length: Int)?) -> EventLoopFuture<Void> {
        let size = frame.readableBytes
        account(size)
        let promise = eventLoop.makePromise(of: Void.self)
        channel.write(WebSocketFrame(fin: true, opcode: .text, data: frame), promise: promise)
        promise.futureResult.assumeIsolated().whenComplete { result in
            self.account(-size)
            if case .failure = result, let push {
                self.state.value.unwritten.append((push.number, ServerFrame.message(inSingleChat: frame, length: push.length)))
            }
        }
        return promise.futureResult
    }

    private func account(_ bytes: Int) {
        guard bytes != 0 else { return }
        state.value.bufferedBytes += bytes
        if bytes > 0 { Self.buffered.increment(by: Double(bytes)) } else { Self.buffered.decrement(by: Double(-bytes)) }
    }

    private func onLoop(_ body: @escaping @Sendable () -> Void) {
        if eventLoop.inEventLoop { body() } else { eventLoop.execute(body) }
    }

    private func onLoopResult<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        if eventLoop.inEventLoop { return body() }
        // submit only fails when the loop is shut down, which outlives every connection.
        return try! await eventLoop.submit(body).get()
    }
}
