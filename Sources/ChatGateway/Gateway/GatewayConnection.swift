import Model
import NIOCore
import NIOWebSocket
import Synchronization

/// One authenticated WebSocket connection held by this process: what deliveries push to.
///
/// Pushes come from any thread; the state lives on the channel's event loop. While the
/// offline queue is being flushed, live pushes are held back and follow the flushed
/// messages, so a user sees queued messages before newer ones. A message that can no
/// longer be written (the connection has closed) is handed to `undeliverable`, which
/// routes it again — to a newer connection, or to the offline queue.
final class GatewayConnection: Sendable {
    private enum Phase {
        /// Flushing the offline queue; `again` when another flush was asked for meanwhile.
        case flushing(heldBack: [[UInt8]], again: Bool, waiters: [EventLoopPromise<Void>])
        case open
        case closed
    }

    let id: UInt64
    let user: Int
    let role: Role
    /// The `jti` of the token it connected with (a new login has another).
    let tokenID: String
    let channel: any Channel
    private let phase: NIOLoopBoundBox<Phase>
    private let registeredFlag = Atomic<Bool>(false)
    private let undeliverable: @Sendable ([[UInt8]]) -> Void

    /// A new connection starts flushing: pushes arriving while its registration and the
    /// first flush are under way wait for the flushed messages.
    init(
        id: UInt64, user: Int, role: Role, tokenID: String, channel: any Channel,
        undeliverable: @escaping @Sendable ([[UInt8]]) -> Void
    ) {
        self.id = id
        self.user = user
        self.role = role
        self.tokenID = tokenID
        self.channel = channel
        self.undeliverable = undeliverable
        phase = .makeBoxSendingValue(.flushing(heldBack: [], again: false, waiters: []), eventLoop: channel.eventLoop)
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
        onLoop { self.pushOnLoop(message) }
    }

    /// Writes a frame that is not a delivered message (welcome, guidance): not held back,
    /// not re-routed if the connection has gone.
    func send(_ frame: ByteBuffer) {
        channel.writeText(frame)
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
            switch self.phase.value {
            case .open:
                self.phase.value = .flushing(heldBack: [], again: false, waiters: [])
                return .mine
            case .flushing(let heldBack, _, var waiters):
                let promise = self.eventLoop.makePromise(of: Void.self)
                waiters.append(promise)
                self.phase.value = .flushing(heldBack: heldBack, again: true, waiters: waiters)
                return .joined(promise.futureResult)
            case .closed:
                return .closed
            }
        }
    }

    /// Writes flushed messages in order; returns how many of the leading ones were handed
    /// to the kernel: all once the last one's write completed, else 0 (closed meanwhile).
    func writeFlushed(_ messages: [[UInt8]]) async -> Int {
        guard let last = messages.last else { return 0 }
        let written: EventLoopFuture<Void>? = await onLoopResult {
            guard case .flushing = self.phase.value, self.channel.isActive else { return nil }
            for message in messages.dropLast() { self.write(message) }
            let promise = self.eventLoop.makePromise(of: Void.self)
            self.write(last, promise: promise)
            self.channel.flush()
            return promise.futureResult
        }
        guard let written, (try? await written.get()) != nil else { return 0 }
        return messages.count
    }

    /// Ends the flush turn: true when another flush was asked for meanwhile (the caller
    /// takes the queue once more); otherwise the held-back pushes follow and the
    /// connection is open.
    func endFlush() async -> Bool {
        await onLoopResult {
            guard case .flushing(let heldBack, let again, let waiters) = self.phase.value else { return false }
            if again {
                self.phase.value = .flushing(heldBack: heldBack, again: false, waiters: waiters)
                return true
            }
            self.phase.value = .open
            for message in heldBack { self.pushOnLoop(message) }
            for waiter in waiters { waiter.succeed() }
            return false
        }
    }

    // MARK: Ending

    /// `force_logout`, then a close frame: the deployed client logs out (docs/api.md).
    func kick() {
        onLoop {
            guard self.channel.isActive else { return }
            self.channel.closeWebSocket(code: .normalClosure, after: ServerFrame.forceLogout(allocator: self.channel.allocator))
        }
    }

    /// After the channel closed: nothing more is written, and what was held back is
    /// handed on to be routed again.
    func finish() async {
        await onLoopResult {
            if case .flushing(let heldBack, _, let waiters) = self.phase.value {
                if !heldBack.isEmpty { self.undeliverable(heldBack) }
                for waiter in waiters { waiter.succeed() }
            }
            self.phase.value = .closed
        }
    }

    // MARK: On the event loop

    private func pushOnLoop(_ message: [UInt8]) {
        switch phase.value {
        case .open where channel.isActive:
            write(message)
            channel.flush()
        case .flushing(var heldBack, let again, let waiters):
            heldBack.append(message)
            phase.value = .flushing(heldBack: heldBack, again: again, waiters: waiters)
        case .open, .closed:
            undeliverable([message])
        }
    }

    private func write(_ message: [UInt8], promise: EventLoopPromise<Void>? = nil) {
        let frame = ServerFrame.singleChat(message, at: WallClock.milliseconds(), allocator: channel.allocator)
        channel.write(WebSocketFrame(fin: true, opcode: .text, data: frame), promise: promise)
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
