import Hummingbird
import RedisClient

/// `GET /healthz`: 200 when Redis answers a PING, 503 when it does not. Load balancers
/// take a bridge that cannot reach Redis out of rotation.
package struct HealthRoutes: Sendable {
    let redis: RedisClient

    func register<Context: RequestContext>(on router: some RouterMethods<Context>) {
        router.get("healthz") { _, _ -> Response in
            let healthy = await redis.ping()
            return Response(
                status: healthy ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: healthy ? #"{"redis":"ok"}"# : #"{"redis":"unavailable"}"#))
            )
        }
    }
}
