import Hummingbird
import Prometheus

/// `GET /metrics` in the Prometheus text format.
package struct MetricsRoutes: Sendable {
    let registry: PrometheusCollectorRegistry

    func register<Context: RequestContext>(on router: some RouterMethods<Context>) {
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
    }
}
