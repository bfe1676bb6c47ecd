import Metrics

/// What the client counts. The executable chooses the backend (Prometheus).
struct RedisClientMetrics: Sendable {
    let commands: Counter
    let timeouts: Counter
    let reconnects: Counter
    let noscriptReloads: Counter

    init(label: String) {
        let dimensions = [("client", label)]
        commands = Counter(label: "redis_client_commands_total", dimensions: dimensions)
        timeouts = Counter(label: "redis_client_timeouts_total", dimensions: dimensions)
        reconnects = Counter(label: "redis_client_reconnects_total", dimensions: dimensions)
        noscriptReloads = Counter(label: "redis_client_script_reloads_total", dimensions: dimensions)
    }
}
