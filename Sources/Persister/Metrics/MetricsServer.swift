import Hummingbird
import Logging
import Prometheus

/// The persister's HTTP listener: `GET /metrics` (Prometheus text) and `GET /healthz`.
enum MetricsServer {
    static func application(host: String, port: Int, registry: PrometheusCollectorRegistry, logger: Logger) -> some ApplicationProtocol {
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
        router.get("healthz") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: #"{"persister":"ok"}"#)))
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "persister"),
            logger: logger
        )
    }
}
