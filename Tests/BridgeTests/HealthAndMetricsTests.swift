import ChatRuntime
import Hummingbird
import HummingbirdTesting
import NIOCore
import Prometheus
import RedisClient
import TestSupport
import Testing

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

@Suite("GET /healthz and GET /metrics", .offCooperativePool)
struct HealthAndMetricsTests {
    @Test("healthz is 200 when Redis answers")
    func healthyWithRedis() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL()))
        defer { Task { await redis.shutdown() } }
        let app = await TestBridge.app(redis: redis)
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"redis":"ok"}"#)
            }
        }
    }

    @Test("healthz is 503 when Redis does not answer, within the command timeout")
    func unhealthyWithoutRedis() async throws {
        var configuration = try RedisConfiguration(url: "redis://127.0.0.1:\(try FreePort.next())/0")
        configuration.commandTimeout = .milliseconds(200)
        let redis = RedisClient(configuration: configuration)
        defer { Task { await redis.shutdown() } }
        let app = await TestBridge.app(redis: redis)
        try await app.test(.router) { client in
            let clock = ContinuousClock()
            let start = clock.now
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body) == #"{"redis":"unavailable"}"#)
            }
            // Bounded by the 200 ms timeout, not the 2 s default; the slack is for a loaded
            // CI machine running every suite at once (1.07 s was seen there).
            #expect(clock.now - start < .milliseconds(1800))
        }
    }

    @Test("metrics are in the Prometheus text format, on a listener of their own: the API router has no /metrics")
    func metricsText() async throws {
        let registry = PrometheusCollectorRegistry()
        registry.makeCounter(name: "chat_test_counter_total").increment(by: Int64(3))
        let redis = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL()))
        defer { Task { await redis.shutdown() } }
        // issue 18: off the public API port
        try await TestBridge.app(redis: redis, metrics: registry).test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(!String(buffer: response.body).contains("chat_test_counter_total"))
            }
        }
        try await Application(router: MetricsListener.router(registry: registry)).test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                let body = String(buffer: response.body)
                #expect(body.contains("# TYPE chat_test_counter_total counter\nchat_test_counter_total 3\n"))
            }
            // the bridge's health stays on the API port, where it reports Redis
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("--metrics-host and --metrics-port: 127.0.0.1:7004 by default, 0 for none, each from its flag or environment")
    func metricsSettings() throws {
        let defaults = try BridgeOptions.parse([]).resolve(environment: [:])
        #expect(defaults.metricsHost == "127.0.0.1" && defaults.metricsPort == 7004)
        let flags = try BridgeOptions.parse(["--metrics-host", "0.0.0.0", "--metrics-port", "9100"]).resolve(environment: [:])
        #expect(flags.metricsHost == "0.0.0.0" && flags.metricsPort == 9100)
        let environment = try BridgeOptions.parse([]).resolve(environment: ["BRIDGE_METRICS_PORT": "0"])
        #expect(environment.metricsPort == 0)
        #expect(throws: ConfigurationError.self) { _ = try BridgeOptions.parse([]).resolve(environment: ["BRIDGE_METRICS_PORT": "-1"]) }
    }
}
