import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The cluster side of ``RedisClient``: a pool of pipelined connections per primary,
/// each request sent to the primary of its keys' slot (``CommandRouting``), the
/// cluster's answers followed as ``ClusterRouter`` decides (MOVED, ASK, TRYAGAIN,
/// CLUSTERDOWN, a node that cannot be reached), and the slot map (``ClusterSlotMap``)
/// read again when it is stale — one read at a time, at most one per
/// `mapRefreshInterval`, whoever asks.
final class RedisClusterClient: Sendable {
    /// Attempts of one request, redirections and waits together.
    static let maximumAttempts = 32
    /// The least time between two reads of the slot map.
    static let mapRefreshInterval: TimeAmount = .milliseconds(100)
    /// The wait before a request is tried again after TRYAGAIN, CLUSTERDOWN or an
    /// unreachable node (doubling up to the maximum, bounded by the request's deadline).
    static let retryBackoff = Backoff(initial: .milliseconds(10), maximum: .milliseconds(500))

    /// Commands that go together: one command, or a transaction (MULTI … EXEC), which
    /// is sent, redirected and retried whole, on one slot.
    struct Unit: Sendable {
        var commands: [RedisCommand]
        var routing: CommandRouting
    }

    private struct State {
        var map: ClusterSlotMap?
        var pools: [ClusterNodeAddress: RedisNodePool] = [:]
        var refresh: EventLoopFuture<ClusterSlotMap>?
        var lastRefresh = NIODeadline.distantPast
        var isShutDown = false
    }

    private let configuration: RedisConfiguration
    private let seeds: [ClusterNodeAddress]
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let clientMetrics: RedisClientMetrics
    private let metrics: ClusterMetrics
    private let state = Mutex(State())
    private let nextPin = Atomic<Int>(0)
    private let allocator = ByteBufferAllocator()
    private static let asking = RedisCommand("ASKING")

    init(
        configuration: RedisConfiguration, seeds: [RedisConfiguration.Endpoint], eventLoopGroup: any EventLoopGroup,
        logger: Logger, metrics: RedisClientMetrics
    ) {
        self.configuration = configuration
        self.seeds = seeds.compactMap {
            if case .tcp(let host, let port) = $0 { ClusterNodeAddress(host: host, port: port) } else { nil }
        }
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.clientMetrics = metrics
        self.metrics = ClusterMetrics(label: logger.label)
        refreshMap()
    }

    // MARK: - Requests

    /// Sends `commands` (one, or a pipeline) and answers `responder` with their replies
    /// in order. Refused at once, before anything is sent, when a command's keys — or a
    /// transaction's — are in several slots.
    func submit(_ commands: [RedisCommand], _ responder: RedisResponder, deadline: NIODeadline) {
        let units: [Unit]
        do {
            units = try Self.units(of: commands)
        } catch {
            metrics.crossSlotRefusals.increment()
            responder.fail(error)
            return
        }
        clientMetrics.commands.increment(by: commands.count)
        let pin = nextPin.wrappingAdd(1, ordering: .relaxed).oldValue
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? eventLoopGroup.next()
        let futures = units.map { execute($0, pin: pin, deadline: deadline, on: loop) }
        let all: EventLoopFuture<[RedisFlatReply]> = futures.count == 1
            ? futures[0]
            : EventLoopFuture.whenAllSucceed(futures, on: loop).map { $0.flatMap { $0 } }
        all.whenComplete { result in
            switch result {
            case .success(let replies): Self.answer(responder, with: replies)
            case .failure(let error): responder.fail(error as? RedisError ?? .connectionClosed)
            }
        }
    }

    /// Splits a pipeline into what is routed on its own: each command, unless the
    /// pipeline holds a transaction, which then goes whole to one slot.
    static func units(of commands: [RedisCommand]) throws(RedisError) -> [Unit] {
        var routings: [CommandRouting] = []
        routings.reserveCapacity(commands.count)
        for command in commands { routings.append(try CommandRouting(command)) }
        guard commands.count > 1, commands.contains(where: { $0.name == "MULTI" }) else {
            return zip(commands, routings).map { Unit(commands: [$0], routing: $1) }
        }
        var slot: HashSlot?
        for case .slot(let commandSlot) in routings {
            if let slot, slot != commandSlot { throw .crossSlot(command: "MULTI") }
            slot = commandSlot
        }
        return [Unit(commands: commands, routing: slot.map(CommandRouting.slot) ?? .anyNode)]
    }

    private static func answer(_ responder: RedisResponder, with replies: [RedisFlatReply]) {
        switch responder {
        case .single(let continuation): continuation.resume(returning: replies[0].reply)
        case .flat(let continuation): continuation.resume(returning: replies[0])
        case .flatPromise(let promise): promise.succeed(replies[0])
        case .batch(let collector): for reply in replies { collector.add(reply.reply) }
        }
    }

    private func execute(_ unit: Unit, pin: Int, deadline: NIODeadline, on loop: any EventLoop) -> EventLoopFuture<[RedisFlatReply]> {
        let promise = loop.makePromise(of: [RedisFlatReply].self)
        switch unit.routing {
        case .slot(let slot):
            attempt(unit, to: .slot(slot), asking: false, router: router(.slot(slot)), pin: pin, deadline: deadline, promise: promise)
        case .anyNode:
            attempt(unit, to: .anyPrimary, asking: false, router: router(.anyPrimary), pin: pin, deadline: deadline, promise: promise)
        case .allPrimaries:
            // Every primary must hold it (a script in its cache): the first error
            // reply is the answer, else the first primary's.
            currentMap(on: loop).flatMap { map -> EventLoopFuture<[[RedisFlatReply]]> in
                let futures = map.primaries.map { primary in
                    let each = loop.makePromise(of: [RedisFlatReply].self)
                    self.attempt(unit, to: .node(primary), asking: false, router: self.router(.node(primary)),
                                 pin: pin, deadline: deadline, promise: each)
                    return each.futureResult
                }
                return EventLoopFuture.whenAllSucceed(futures, on: loop)
            }.map { perPrimary in
                perPrimary.first { $0.contains { $0.errorMessage(at: $0.root) != nil } } ?? perPrimary[0]
            }.cascade(to: promise)
        }
        return promise.futureResult
    }

    private func router(_ routing: ClusterTarget) -> ClusterRouter {
        ClusterRouter(routing: routing, maximumAttempts: Self.maximumAttempts, backoff: Self.retryBackoff)
    }

    /// One attempt of `unit` on the node `target` resolves to; what follows is the
    /// router's decision.
    private func attempt(
        _ unit: Unit, to target: ClusterTarget, asking: Bool, router: ClusterRouter, pin: Int, deadline: NIODeadline,
        promise: EventLoopPromise<[RedisFlatReply]>
    ) {
        let loop = promise.futureResult.eventLoop
        let proceed: @Sendable (Result<ClusterNodeAddress, any Error>) -> Void = { resolved in
            switch resolved {
            case .success(let address):
                guard let pool = self.pool(for: address) else {
                    self.decide(.failure(RedisError.shutdown), unit: unit, node: address, router: router, pin: pin, deadline: deadline, promise: promise)
                    return
                }
                self.send(unit.commands, asking: asking, to: pool, pin: pin, deadline: deadline, on: loop).whenComplete { result in
                    self.decide(result, unit: unit, node: address, router: router, pin: pin, deadline: deadline, promise: promise)
                }
            case .failure(let error):
                self.decide(.failure(error), unit: unit, node: nil, router: router, pin: pin, deadline: deadline, promise: promise)
            }
        }
        // With a map at hand (the usual case) the node is known at once: no future, no hop.
        if let map = state.withLock({ $0.map }) {
            proceed(resolve(target, in: map))
        } else {
            refreshMap().whenComplete { result in proceed(result.flatMap { self.resolve(target, in: $0) }) }
        }
    }

    private func decide(
        _ result: Result<[RedisFlatReply], any Error>, unit: Unit, node: ClusterNodeAddress?, router: ClusterRouter,
        pin: Int, deadline: NIODeadline, promise: EventLoopPromise<[RedisFlatReply]>
    ) {
        var router = router
        let outcome: ClusterRouter.Outcome
        switch result {
        case .success(let replies):
            outcome = .replied(redirection: replies.lazy.compactMap { reply in
                reply.errorMessage(at: reply.root).flatMap { ClusterRedirection(errorMessage: $0) }
            }.first)
        case .failure(let error):
            switch error as? RedisError ?? .connectionClosed {
            case .unreachable(let detail):
                outcome = .failed(.unreachable(detail), sent: false)
            case .shutdown where !state.withLock({ $0.isShutDown }):
                // Its pool was closed: the node left the map before the request was sent.
                outcome = .failed(.unreachable("\(node.map { "\($0)" } ?? "node") left the cluster"), sent: false)
            case let other:
                outcome = .failed(other, sent: true)
            }
        }
        let step = router.next(after: outcome)
        if router.wantsMapRefresh { refreshMap() }
        switch step {
        case .deliver:
            // A redirection still in the reply: the attempts ran out.
            if case .replied(redirection: _?) = outcome { metrics.retriesExhausted.increment() }
            promise.completeWith(result)
        case .fail(let error):
            if case .failed(_, sent: false) = outcome, router.attempts >= Self.maximumAttempts {
                metrics.retriesExhausted.increment()
            }
            promise.fail(error)
        case .retry(let target, let asking, let delay, let reason):
            switch reason {
            case .moved: metrics.moved.increment()
            case .ask: metrics.ask.increment()
            default: metrics.retries[reason]?.increment()
            }
            guard let delay else {
                attempt(unit, to: target, asking: asking, router: router, pin: pin, deadline: deadline, promise: promise)
                return
            }
            let wait = TimeAmount(delay)
            guard NIODeadline.now() + wait < deadline else {
                // No time left for another try: the last answer stands.
                metrics.retriesExhausted.increment()
                promise.completeWith(result)
                return
            }
            let next = router
            promise.futureResult.eventLoop.scheduleTask(in: wait) {
                self.attempt(unit, to: target, asking: asking, router: next, pin: pin, deadline: deadline, promise: promise)
            }
        }
    }

    private func send(
        _ commands: [RedisCommand], asking: Bool, to pool: RedisNodePool, pin: Int, deadline: NIODeadline, on loop: any EventLoop
    ) -> EventLoopFuture<[RedisFlatReply]> {
        let all = asking ? [Self.asking] + commands : commands
        var bytes = allocator.buffer(capacity: all.reduce(0) { $0 + $1.encoded.count })
        for command in all { command.encode(into: &bytes) }
        if all.count == 1 {
            let promise = loop.makePromise(of: RedisFlatReply.self)
            pool.submit(RedisRequest(bytes: bytes, responder: .flatPromise(promise), deadline: deadline), pinnedBy: pin)
            return promise.futureResult.map { [$0] }
        }
        let promise = loop.makePromise(of: [RedisFlatReply].self)
        let collector = RedisReplyCollector(expected: all.count) { result in
            promise.completeWith(result.map { replies in replies.dropFirst(asking ? 1 : 0).map(RedisFlatReply.init) }
                .mapError { $0 as any Error })
        }
        pool.submit(RedisRequest(bytes: bytes, responder: .batch(collector), deadline: deadline), pinnedBy: pin)
        return promise.futureResult
    }

    // MARK: - Nodes and the slot map

    private func resolve(_ target: ClusterTarget, in map: ClusterSlotMap) -> Result<ClusterNodeAddress, any Error> {
        switch target {
        case .node(let address):
            return .success(address)
        case .slot(let slot):
            guard let primary = map.primary(for: slot) else { return .failure(RedisError.unreachable("no node serves slot \(slot)")) }
            return .success(primary)
        case .anyPrimary:
            guard !map.primaries.isEmpty else { return .failure(RedisError.unreachable("the cluster has no primary")) }
            let index = nextPin.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max
            return .success(map.primaries[index % map.primaries.count])
        }
    }

    private func currentMap(on loop: any EventLoop) -> EventLoopFuture<ClusterSlotMap> {
        if let map = state.withLock({ $0.map }) { return loop.makeSucceededFuture(map) }
        return refreshMap().hop(to: loop)
    }

    /// The pool of a node, opened on first use (a MOVED to a node the map did not
    /// name yet); nil once the client is shut down.
    private func pool(for address: ClusterNodeAddress) -> RedisNodePool? {
        state.withLock { state in
            if state.isShutDown { return nil }
            if let pool = state.pools[address] { return pool }
            let pool = makePool(address, size: configuration.poolSize)
            state.pools[address] = pool
            return pool
        }
    }

    private func makePool(_ address: ClusterNodeAddress, size: Int) -> RedisNodePool {
        var node = configuration.forNode(address.endpoint)
        node.poolSize = size
        return RedisNodePool(
            configuration: node, eventLoopGroup: eventLoopGroup, logger: logger, metrics: clientMetrics, failsWhenUnreachable: true
        )
    }

    /// Reads the slot map again — or joins the read under way — no sooner than
    /// `mapRefreshInterval` after the last one. It asks the primaries it has a
    /// connection to first, then the other nodes it knows, then the seeds.
    @discardableResult
    func refreshMap() -> EventLoopFuture<ClusterSlotMap> {
        let loop = eventLoopGroup.next()
        let (future, start, wait) = state.withLock { state -> (EventLoopFuture<ClusterSlotMap>, EventLoopPromise<ClusterSlotMap>?, TimeAmount) in
            if let refresh = state.refresh { return (refresh, nil, .zero) }
            if state.isShutDown { return (loop.makeFailedFuture(RedisError.shutdown), nil, .zero) }
            let promise = loop.makePromise(of: ClusterSlotMap.self)
            state.refresh = promise.futureResult
            return (promise.futureResult, promise, state.lastRefresh + Self.mapRefreshInterval - .now())
        }
        guard let start else { return future }
        if wait > .zero {
            loop.scheduleTask(in: wait) { self.readMap(from: self.refreshCandidates(), index: 0, lastError: nil, promise: start) }
        } else {
            readMap(from: refreshCandidates(), index: 0, lastError: nil, promise: start)
        }
        return future
    }

    private func refreshCandidates() -> [ClusterNodeAddress] {
        let (map, pools) = state.withLock { ($0.map, $0.pools) }
        let primaries = map?.primaries ?? []
        let ordered = primaries.filter { pools[$0]?.isReady == true } + primaries + (map?.nodes ?? []) + seeds
        var seen = Set<ClusterNodeAddress>()
        return ordered.filter { seen.insert($0).inserted }
    }

    private func readMap(
        from candidates: [ClusterNodeAddress], index: Int, lastError: String?, promise: EventLoopPromise<ClusterSlotMap>
    ) {
        guard index < candidates.count else {
            let detail = "no cluster node answered CLUSTER SLOTS" + (lastError.map { " (last: \($0))" } ?? "")
            finishRefresh(.failure(RedisError.unreachable(detail)), promise: promise)
            return
        }
        let address = candidates[index]
        let existing = state.withLock { $0.pools[address] }
        let pool = existing ?? makePool(address, size: 1)
        let reply = promise.futureResult.eventLoop.makePromise(of: RedisFlatReply.self)
        var bytes = allocator.buffer(capacity: 32)
        RedisCommand("CLUSTER", "SLOTS").encode(into: &bytes)
        pool.submit(RedisRequest(bytes: bytes, responder: .flatPromise(reply), deadline: .now() + configuration.commandTimeout))
        reply.futureResult.whenComplete { result in
            if existing == nil { Task { await pool.shutdown() } }
            switch result.flatMap({ flat in
                Result { () throws(RedisError) in try ClusterSlotMap.fromClusterSlots(flat.throwingOnError().reply, askedHost: address.host) }
                    .mapError { $0 as any Error }
            }) {
            case .success(let map) where !map.shards.isEmpty:
                self.finishRefresh(.success(map), promise: promise)
            case .success:
                self.readMap(from: candidates, index: index + 1, lastError: "\(address): no slots assigned", promise: promise)
            case .failure(let error):
                self.readMap(from: candidates, index: index + 1, lastError: "\(address): \(error)", promise: promise)
            }
        }
    }

    private func finishRefresh(_ result: Result<ClusterSlotMap, RedisError>, promise: EventLoopPromise<ClusterSlotMap>) {
        var retired: [RedisNodePool] = []
        var changed = false
        state.withLock { state in
            state.refresh = nil
            state.lastRefresh = .now()
            guard case .success(let map) = result else { return }
            changed = state.map != map
            state.map = map
            let primaries = Set(map.primaries)
            for (address, pool) in state.pools where !primaries.contains(address) {
                retired.append(pool)
                state.pools[address] = nil
            }
            for primary in primaries where state.pools[primary] == nil {
                state.pools[primary] = makePool(primary, size: configuration.poolSize)
            }
        }
        switch result {
        case .success(let map):
            metrics.mapRefreshes.increment()
            if changed {
                logger.info("redis cluster map", metadata: [
                    "primaries": "\(map.primaries.map(\.description).joined(separator: ","))",
                    "complete": "\(map.coversAllSlots)",
                ])
            }
        case .failure(let error):
            metrics.mapRefreshFailures.increment()
            logger.warning("redis cluster map unreadable", metadata: ["error": "\(error)"])
        }
        // Requests already sent on a retired pool keep their connection until their
        // deadline; new ones go to the nodes of the new map.
        if !retired.isEmpty {
            let retired = retired
            eventLoopGroup.next().scheduleTask(in: configuration.commandTimeout) {
                Task { for pool in retired { await pool.shutdown() } }
            }
        }
        promise.completeWith(result.mapError { $0 as any Error })
    }

    func shutdown() async {
        let pools = state.withLock { state in
            state.isShutDown = true
            let pools = Array(state.pools.values)
            state.pools = [:]
            return pools
        }
        for pool in pools { await pool.shutdown() }
    }
}
