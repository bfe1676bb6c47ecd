import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// The HTTP listener of `GET /metrics` (Prometheus text), on an address of its own so that
/// what the processes count stays off the public API port: the bridge's and the
/// persister's `--metrics-host` / `--metrics-port` (docs/operations.md, *Metrics*).
public enum MetricsListener {
    /// The listener as a service of the caller's service group.
    /// - Parameter health: the body of a `GET /healthz` that answers 200 on this listener;
    ///   nil: none (the bridge answers `/healthz` on its public port, with Redis' state).
    public static func service(
        host: String, port: Int, registry: PrometheusCollectorRegistry, serverName: String, health: String? = nil,
        logger: Logger
    ) -> some Service {
        Application(
            router: router(registry: registry, health: health),
            configuration: .init(address: .hostname(host, port: port), serverName: serverName),
            logger: logger
        )
    }

    /// Its routes.
    public static func router(registry: PrometheusCollectorRegistry, health: String? = nil) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("metrics") { _, _ -> Response in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(4096)
            registry.emit(into: &bytes)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes))
            )
        }
        if let health {
            router.get("healthz") { _, _ -> Response in
                Response(
                    status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: health))
                )
            }
        }
        return router
    }
}
