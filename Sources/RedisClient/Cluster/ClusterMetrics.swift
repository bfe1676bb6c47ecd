import Metrics

/// What the cluster client counts, one counter per bound it keeps: map reads,
/// redirections followed, retries by reason, requests that ran out of retries.
struct ClusterMetrics: Sendable {
    let mapRefreshes: Counter
    let mapRefreshFailures: Counter
    let moved: Counter
    let ask: Counter
    let retries: [ClusterRouter.RetryReason: Counter]
    let retriesExhausted: Counter
    let crossSlotRefusals: Counter

    init(label: String) {
        let client = ("client", label)
        mapRefreshes = Counter(label: "redis_cluster_map_refreshes_total", dimensions: [client])
        mapRefreshFailures = Counter(label: "redis_cluster_map_refresh_failures_total", dimensions: [client])
        moved = Counter(label: "redis_cluster_redirects_total", dimensions: [client, ("kind", "moved")])
        ask = Counter(label: "redis_cluster_redirects_total", dimensions: [client, ("kind", "ask")])
        retries = Dictionary(uniqueKeysWithValues: ClusterRouter.RetryReason.allCases.map {
            ($0, Counter(label: "redis_cluster_retries_total", dimensions: [client, ("reason", $0.rawValue)]))
        })
        retriesExhausted = Counter(label: "redis_cluster_retries_exhausted_total", dimensions: [client])
        crossSlotRefusals = Counter(label: "redis_cluster_crossslot_refusals_total", dimensions: [client])
    }
}
