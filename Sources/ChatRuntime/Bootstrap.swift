import Logging
import Metrics
import Prometheus

/// Backends chosen by the executables; libraries only log and count.
public enum Bootstrap {
    /// Logs to standard error at `level`. Call once, first thing.
    public static func logging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// Routes swift-metrics into a Prometheus registry and returns it for `/metrics`.
    public static func prometheus() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}
