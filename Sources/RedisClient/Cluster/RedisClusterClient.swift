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
    /// Time kept before the deadline beyond a retry's own round trip, for a stall of the
    /// machine (a busy event loop, a descheduled thread) during it.
    static let retryMargin: TimeAmount = .milliseconds(50)

    /// Commands that go together: one command, or a transaction (MULTI … EXEC), which
    /// is sent, redirected and retried whole, on one slot.
    struct Unit: Sendable {
        var commands: [RedisCommand]
        var routing: CommandRouting
    }

    typealias Completion = @Sendable (Result<[RedisFlatReply], any Error>) -> Void

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
        let deliver: Completion = { result in
            switch result {
            case .success(let replies): Self.answer(responder, with: replies)
            case .failure(let error): responder.fail(error as? RedisError ?? .connectionClosed)
            }
        }
        // The completions run where the replies arrive (a connection's event loop): no
        // hop back to the caller's thread but the continuation's own.
        if units.count == 1 {
            execute(units[0], pin: pin, deadline: deadline, completion: deliver)
            return
        }
        let gathered = ReplyGatherer(count: units.count) { deliver($0.map { $0.flatMap { $0 } }) }
        if let map = state.withLock({ $0.map }) {
            dispatch(units, map: map, pin: pin, deadline: deadline, into: gathered)
        } else {
            // No map yet: routed once it has been read, as a whole. (Each command waiting
            // for it alone raced the pipelines routed meanwhile by the map just stored:
            // commands of one slot ran out of order.) Not read: each on its own, retried
            // as its router says.
            refreshMap().whenComplete { result in
                self.dispatch(units, map: try? result.get(), pin: pin, deadline: deadline, into: gathered)
            }
        }
    }

    /// Many independent commands: those whose primary `map` knows go in one write per
    /// node, in order (a pipeline of 100,000 commands is 3 writes, not 100,000); the rest
    /// (keyless, every primary, no map) each on their own.
    private func dispatch(_ units: [Unit], map: ClusterSlotMap?, pin: Int, deadline: NIODeadline, into gathered: ReplyGatherer) {
        var loose: [Int] = []
        var batches: [ClusterNodeAddress: [Int]] = [:]
        for (index, unit) in units.enumerated() {
            if case .slot(let slot) = unit.routing, let node = map?.primary(for: slot) {
                batches[node, default: []].append(index)
            } else {
                loose.append(index)
            }
        }
        for (node, indices) in batches {
            sendBatch(indices.map { units[$0] }, to: node, pin: pin, deadline: deadline) { position, result in
                gathered.set(indices[position], result)
            }
        }
        for index in loose {
            execute(units[index], pin: pin, deadline: deadline) { gathered.set(index, $0) }
        }
    }

    /// One write of single-command `units` to `node`, each reply then decided on as if
    /// its command had been sent alone: one answered by a redirection (MOVED, ASK,
    /// TRYAGAIN, CLUSTERDOWN: it did not run) goes on alone where its router says, so
    /// only what did not run is sent again; a batch that could not be sent (the node
    /// unreachable, or gone from the map) is retried command by command; one written and
    /// then lost (the connection broke, the timeout) fails, as its commands may have run.
    private func sendBatch(
        _ units: [Unit], to node: ClusterNodeAddress, pin: Int, deadline: NIODeadline,
        answer: @escaping @Sendable (Int, Result<[RedisFlatReply], any Error>) -> Void
    ) {
        let decideAlone: @Sendable (Int, Result<[RedisFlatReply], any Error>, TimeAmount) -> Void = { position, result, roundTrip in
            let unit = units[position]
            guard case .slot(let slot) = unit.routing else { return answer(position, result) }
            self.decide(result, unit: unit, node: node, router: self.router(.slot(slot)), pin: pin, deadline: deadline, roundTrip: roundTrip) {
                answer(position, $0)
            }
        }
        guard let pool = pool(for: node) else {
            for position in units.indices { decideAlone(position, .failure(RedisError.shutdown), .zero) }
            return
        }
        let sent = NIODeadline.now()
        send(units.map { $0.commands[0] }, asking: false, to: pool, pin: pin, deadline: deadline) { result in
            let roundTrip = NIODeadline.now() - sent
            switch result {
            case .success(let replies):
                for (position, reply) in replies.enumerated() { decideAlone(position, .success([reply]), roundTrip) }
            case .failure(let error):
                for position in units.indices { decideAlone(position, .failure(error), roundTrip) }
            }
        }
    }

    /// Splits a pipeline into what is routed on its own: each command, unless the
    /// pipeline holds a transaction, which then goes whole to one slot.
    static func units(of commands: [RedisCommand]) throws(RedisError) -> [Unit] {
        var routings: [CommandRouting] = []
        routings.reserveCapacity(commands.count)
        for command in commands { routings.append(try CommandRouting(command)) }
        // A WAIT counts the writes of its connection: it stays with the writes before it
        // (ReplicaAcknowledgement), as a transaction's commands stay together.
        guard commands.count > 1, let whole = commands.first(where: { $0.name == "MULTI" || $0.name == "WAIT" })?.name else {
            return zip(commands, routings).map { Unit(commands: [$0], routing: $1) }
        }
        var slot: HashSlot?
        for case .slot(let commandSlot) in routings {
            if let slot, slot != commandSlot { throw .crossSlot(command: whole) }
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

    private func execute(_ unit: Unit, pin: Int, deadline: NIODeadline, completion: @escaping Completion) {
        switch unit.routing {
        case .slot(let slot):
            attempt(unit, to: .slot(slot), asking: false, router: router(.slot(slot)), pin: pin, deadline: deadline, completion: completion)
        case .anyNode:
            attempt(unit, to: .anyPrimary, asking: false, router: router(.anyPrimary), pin: pin, deadline: deadline, completion: completion)
        case .allPrimaries:
            // Every primary must hold it (a script in its cache): the first error
            // reply is the answer, else the first primary's.
            withMap { result in
                switch result {
                case .failure(let error):
                    completion(.failure(error))
                case .success(let map):
                    let gathered = ReplyGatherer(count: map.primaries.count) { result in
                        completion(result.map { perPrimary in
                            perPrimary.first { $0.contains { $0.errorMessage(at: $0.root) != nil } } ?? perPrimary[0]
                        })
                    }
                    for (index, primary) in map.primaries.enumerated() {
                        self.attempt(unit, to: .node(primary), asking: false, router: self.router(.node(primary)),
                                     pin: pin, deadline: deadline) { gathered.set(index, $0) }
                    }
                }
            }
        }
    }

    private func router(_ routing: ClusterTarget) -> ClusterRouter {
        ClusterRouter(routing: routing, maximumAttempts: Self.maximumAttempts, backoff: Self.retryBackoff)
    }

    /// One attempt of `unit` on the node `target` resolves to; what follows is the
    /// router's decision.
    private func attempt(
        _ unit: Unit, to target: ClusterTarget, asking: Bool, router: ClusterRouter, pin: Int, deadline: NIODeadline,
        completion: @escaping Completion
    ) {
        let proceed: @Sendable (Result<ClusterNodeAddress, any Error>) -> Void = { resolved in
            switch resolved {
            case .success(let address):
                guard let pool = self.pool(for: address) else {
                    self.decide(.failure(RedisError.shutdown), unit: unit, node: address, router: router, pin: pin, deadline: deadline,
                                roundTrip: .zero, completion: completion)
                    return
                }
                let sent = NIODeadline.now()
                self.send(unit.commands, asking: asking, to: pool, pin: pin, deadline: deadline) { result in
                    self.decide(result, unit: unit, node: address, router: router, pin: pin, deadline: deadline,
                                roundTrip: NIODeadline.now() - sent, completion: completion)
                }
            case .failure(let error):
                self.decide(.failure(error), unit: unit, node: nil, router: router, pin: pin, deadline: deadline,
                            roundTrip: .zero, completion: completion)
            }
        }
        withMap { result in proceed(result.flatMap { self.resolve(target, in: $0) }) }
    }

    /// The map at once when there is one (the usual case: no future, no hop), else when
    /// it has been read.
    private func withMap(_ body: @escaping @Sendable (Result<ClusterSlotMap, any Error>) -> Void) {
        if let map = state.withLock({ $0.map }) {
            body(.success(map))
        } else {
            refreshMap().whenComplete(body)
        }
    }

    /// `roundTrip`: how long the attempt took; a retry after a wait is made only when
    /// another as long fits before the deadline with `retryMargin` to spare (else it could
    /// time out, and a TRYAGAIN answer, which says the command did not run, would become
    /// a timeout, which cannot).
    private func decide(
        _ result: Result<[RedisFlatReply], any Error>, unit: Unit, node: ClusterNodeAddress?, router: ClusterRouter,
        pin: Int, deadline: NIODeadline, roundTrip: TimeAmount, completion: @escaping Completion
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
            completion(result)
        case .fail(let error):
            if case .failed(_, sent: false) = outcome, router.attempts >= Self.maximumAttempts {
                metrics.retriesExhausted.increment()
            }
            completion(.failure(error))
        case .retry(let target, let asking, let delay, let reason):
            switch reason {
            case .moved: metrics.moved.increment()
            case .ask: metrics.ask.increment()
            default: metrics.retries[reason]?.increment()
            }
            guard let delay else {
                attempt(unit, to: target, asking: asking, router: router, pin: pin, deadline: deadline, completion: completion)
                return
            }
            let wait = TimeAmount(delay)
            guard NIODeadline.now() + wait + roundTrip + Self.retryMargin < deadline else {
                // No time left for another try: the last answer stands.
                metrics.retriesExhausted.increment()
                completion(result)
                return
            }
            let next = router
            (MultiThreadedEventLoopGroup.currentEventLoop ?? eventLoopGroup.next()).scheduleTask(in: wait) {
                self.attempt(unit, to: target, asking: asking, router: next, pin: pin, deadline: deadline, completion: completion)
            }
        }
    }

    /// Writes `commands` (after `ASKING`) on the pool's connection for `pin`; the
    /// completion runs on that connection's event loop.
    private func send(
        _ commands: [RedisCommand], asking: Bool, to pool: RedisNodePool, pin: Int, deadline: NIODeadline,
        completion: @escaping Completion
    ) {
        let all = asking ? [Self.asking] + commands : commands
        var bytes = allocator.buffer(capacity: all.reduce(0) { $0 + $1.encoded.count })
        for command in all { command.encode(into: &bytes) }
        let connection = pool.connection(pinnedBy: pin)
        if all.count == 1 {
            let promise = connection.eventLoop.makePromise(of: RedisFlatReply.self)
            connection.submit(RedisRequest(bytes: bytes, responder: .flatPromise(promise), deadline: deadline))
            promise.futureResult.whenComplete { completion($0.map { [$0] }) }
            return
        }
        let collector = RedisReplyCollector(expected: all.count) { result in
            completion(result.map { replies in replies.dropFirst(asking ? 1 : 0).map(RedisFlatReply.init) }.mapError { $0 as any Error })
        }
        connection.submit(RedisRequest(bytes: bytes, responder: .batch(collector), deadline: deadline))
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

/// The replies of several requests that answer together (a pipeline's units, every
/// primary's answer), in order; the first failure answers for all.
private final class ReplyGatherer: Sendable {
    private struct Progress {
        var results: [[RedisFlatReply]?]
        var remaining: Int
    }

    private let progress: Mutex<Progress>
    private let completion: @Sendable (Result<[[RedisFlatReply]], any Error>) -> Void

    init(count: Int, completion: @escaping @Sendable (Result<[[RedisFlatReply]], any Error>) -> Void) {
        progress = Mutex(Progress(results: Array(repeating: nil, count: count), remaining: count))
        self.completion = completion
    }

    func set(_ index: Int, _ result: Result<[RedisFlatReply], any Error>) {
        let outcome: Result<[[RedisFlatReply]], any Error>? = progress.withLock { progress in
            guard progress.remaining > 0 else { return nil }  // already failed
            switch result {
            case .failure(let error):
                progress.remaining = 0
                return .failure(error)
            case .success(let replies):
                progress.results[index] = replies
                progress.remaining -= 1
                return progress.remaining == 0 ? .success(progress.results.map { $0 ?? [] }) : nil
            }
        }
        if let outcome { completion(outcome) }
    }
}
