import ArgumentParser
import ChatRuntime

/// The bridge's own options; each falls back to an environment variable.
struct BridgeOptions: ParsableArguments {
    @Option(name: .customLong("host"), help: "Address to listen on (env BRIDGE_HOST, default 127.0.0.1).")
    var host: String?

    @Option(name: .customLong("port"), help: "HTTP and WebSocket port (env BRIDGE_PORT, default 7001).")
    var port: String?

    @Option(name: .customLong("jwt-secret"), help: "HS256 secret of the tokens, at least 32 bytes (HS256 keys must be as long as the hash); the same on every bridge process (env JWT_SECRET, default: random per process, so tokens die with it).")
    var jwtSecret: String?

    @Option(name: .customLong("visitor-salt"), help: "Salt of the visitors' X-Security-Sign (env VISITOR_SALT, default the value deployed clients carry).")
    var visitorSalt: String?

    static let hostSetting = Setting("host", env: "BRIDGE_HOST")
    static let portSetting = Setting("port", env: "BRIDGE_PORT")
    static let jwtSecretSetting = Setting("jwt-secret", env: "JWT_SECRET")
    static let visitorSaltSetting = Setting("visitor-salt", env: "VISITOR_SALT")

    func resolve(environment: [String: String]) throws(ConfigurationError) -> BridgeSettings {
        let host = try Self.hostSetting.resolve(flag: host, environment: environment, default: "127.0.0.1") {
            $0.isEmpty || $0.contains(where: \.isWhitespace) ? nil : $0
        }
        let port = try Self.portSetting.resolve(flag: port, environment: environment, default: 7001) {
            Int($0).flatMap { (1...65535).contains($0) ? $0 : nil }
        }
        let jwtSecret: BridgeSettings.Secret = try Self.jwtSecretSetting.resolve(
            flag: jwtSecret, environment: environment, default: .generated(BridgeSettings.randomSecret())
        ) { text throws(ConfigurationError) in
            guard text.utf8.count >= TokenService.minimumSecretBytes else { throw Self.jwtSecretSetting.fail("must be at least \(TokenService.minimumSecretBytes) bytes") }
            return .configured(text)
        }
        let visitorSalt = try Self.visitorSaltSetting.resolve(
            flag: visitorSalt, environment: environment, default: BridgeSettings.defaultVisitorSalt
        ) { $0.isEmpty ? nil : $0 }
        return BridgeSettings(host: host, port: port, jwtSecret: jwtSecret, visitorSalt: visitorSalt)
    }
}
