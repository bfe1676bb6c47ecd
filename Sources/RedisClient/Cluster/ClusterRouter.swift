/// What a cluster node's error reply asks the client to do instead.
enum ClusterRedirection: Hashable, Sendable {
    /// The slot lives elsewhere for good: update the map, send there.
    case moved(HashSlot, to: ClusterNodeAddress)
    /// The slot is being migrated and this key has left: ask the target, once
    /// (`ASKING` first), without changing the map.
    case ask(HashSlot, to: ClusterNodeAddress)
    /// A multi-key command on a slot mid-migration whose keys are split for now.
    case tryAgain
    /// The cluster cannot serve the slot yet (a failover under way).
    case clusterDown

    init?(errorMessage message: some StringProtocol) {
        if message.hasPrefix("MOVED ") || message.hasPrefix("ASK ") {
            let parts = message.split(separator: " ")
            guard parts.count == 3, let number = Int(parts[1]), let slot = HashSlot(rawValue: number),
                  let address = ClusterNodeAddress(parts[2]) else { return nil }
            self = message.hasPrefix("MOVED ") ? .moved(slot, to: address) : .ask(slot, to: address)
        } else if message.hasPrefix("TRYAGAIN") {
            self = .tryAgain
        } else if message.hasPrefix("CLUSTERDOWN") {
            self = .clusterDown
        } else {
            return nil
        }
    }
}

/// Where an attempt goes: the primary of a slot as the map says, or a node a
/// redirection named.
enum ClusterTarget: Hashable, Sendable {
    case slot(HashSlot)
    case node(ClusterNodeAddress)
    /// Keyless: whichever primary.
    case anyPrimary
}

/// The router of one request: given how an attempt ended, what to do next. A state
/// machine that returns actions and performs none, so each rule is tested without a
/// cluster; ``RedisClusterClient`` carries the actions out.
///
/// What is retried: replies that say the command did not run (MOVED, ASK, TRYAGAIN,
/// CLUSTERDOWN) and requests that were never sent (the node could not be reached, or
/// left the cluster). What is not: a request whose connection broke or timed out after
/// it was written — it may have run, and running a non-idempotent command (INCR, a
/// script that appends) twice is worse than reporting the failure.
struct ClusterRouter: Sendable {
    enum Step: Equatable, Sendable {
        /// Hand the replies to the caller (also when retries ran out: the last error
        /// reply is the caller's answer).
        case deliver
        /// Send again to `target`, `asking` first, after `delay` (none: at once).
        case retry(ClusterTarget, asking: Bool, delay: Duration?, reason: RetryReason)
        /// Throw `error` to the caller.
        case fail(RedisError)
    }

    enum RetryReason: String, Sendable, CaseIterable {
        case moved, ask, tryAgain = "tryagain", clusterDown = "clusterdown", unreachable
    }

    /// How an attempt ended.
    enum Outcome: Sendable {
        /// The replies arrived; `redirection` is the first one that asks for another try.
        case replied(redirection: ClusterRedirection?)
        case failed(RedisError, sent: Bool)
    }

    let routing: ClusterTarget
    let maximumAttempts: Int
    let backoff: Backoff
    private(set) var attempts = 1
    /// Set after a MOVED, a lost node or CLUSTERDOWN: the map should be read again. The
    /// client coalesces and rate-limits the reads.
    private(set) var wantsMapRefresh = false

    init(routing: ClusterTarget, maximumAttempts: Int, backoff: Backoff) {
        self.routing = routing
        self.maximumAttempts = maximumAttempts
        self.backoff = backoff
    }

    mutating func next(after outcome: Outcome) -> Step {
        wantsMapRefresh = false
        let step: Step
        switch outcome {
        case .replied(redirection: nil):
            return .deliver
        case .replied(redirection: .moved(_, let node)?):
            wantsMapRefresh = true
            step = .retry(.node(node), asking: false, delay: nil, reason: .moved)
        case .replied(redirection: .ask(_, let node)?):
            step = .retry(.node(node), asking: true, delay: nil, reason: .ask)
        case .replied(redirection: .tryAgain?):
            step = .retry(routing, asking: false, delay: backoff.delay(afterAttempt: attempts), reason: .tryAgain)
        case .replied(redirection: .clusterDown?):
            wantsMapRefresh = true
            step = .retry(routing, asking: false, delay: backoff.delay(afterAttempt: attempts), reason: .clusterDown)
        case .failed(let error, sent: false):
            wantsMapRefresh = true
            guard case .unreachable = error else { return .fail(error) }
            step = .retry(routing, asking: false, delay: backoff.delay(afterAttempt: attempts), reason: .unreachable)
        case .failed(let error, sent: true):
            // It may have run: never sent again. The node may be gone, though.
            if case .connectionClosed = error { wantsMapRefresh = true }
            if case .timeout = error { wantsMapRefresh = true }
            return .fail(error)
        }
        guard attempts < maximumAttempts else {
            if case .failed(let error, _) = outcome { return .fail(error) }
            return .deliver
        }
        attempts += 1
        return step
    }
}
