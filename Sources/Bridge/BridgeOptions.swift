import ArgumentParser
import ChatRuntime
import Model

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

    @Option(name: .customLong("bcrypt-cost"), help: "bcrypt cost of new password hashes, 4–15 (env BCRYPT_COST, default 10).")
    var bcryptCost: String?

    @Option(name: .customLong("ws-max-frame-bytes"), help: "Largest WebSocket message accepted; larger ones close the connection with 1009 (env WS_MAX_FRAME_BYTES, default 65536).")
    var webSocketMaxFrameBytes: String?

    @Option(name: .customLong("ws-ping-seconds"), help: "Interval of the pings sent to every WebSocket; a peer silent for two intervals is dropped (env WS_PING_SECONDS, default 30).")
    var webSocketPingSeconds: String?

    @Option(name: .customLong("heartbeat-ms"), help: "Heartbeat of this process in chat:nodes and of its users' online_{uid}; three missed heartbeats and it is no longer a delivery target. The same on every process (env HEARTBEAT_MS, default 5000).")
    var heartbeatMilliseconds: String?

    @Option(name: .customLong("offline-queue-cap"), help: "Messages kept per offline queue chat_getmessage_{uid}; the oldest beyond it are dropped and counted (env OFFLINE_QUEUE_CAP, default 5000).")
    var offlineQueueCap: String?

    @Option(name: .customLong("notice-icon-base"), help: "URL prefix of the icons of system notices and guidance messages (env NOTICE_ICON_BASE).")
    var noticeIconBase: String?

    @Option(name: .customLong("history-cap"), help: "Messages kept per history list (chatlog:…); older ones are trimmed and counted (env HISTORY_CAP, default 1000).")
    var historyCap: String?

    @Option(name: .customLong("stream-max-len"), help: "Hard cap (MAXLEN ~) of chat:stream:messages and chat:stream:entities, the safety net against a consumer group that never reads (env STREAM_MAX_LEN, default 5000000).")
    var streamMaxLength: String?

    @Option(name: .customLong("send-dedup-seconds"), help: "How long the client id of a WebSocket send is remembered: a retry within it is acknowledged with the first acceptance and not sent again (env SEND_DEDUP_SECONDS, default 300).")
    var sendDedupSeconds: String?

    static let hostSetting = Setting("host", env: "BRIDGE_HOST")
    static let portSetting = Setting("port", env: "BRIDGE_PORT")
    static let jwtSecretSetting = Setting("jwt-secret", env: "JWT_SECRET")
    static let visitorSaltSetting = Setting("visitor-salt", env: "VISITOR_SALT")
    static let bcryptCostSetting = Setting("bcrypt-cost", env: "BCRYPT_COST")
    static let maxFrameSetting = Setting("ws-max-frame-bytes", env: "WS_MAX_FRAME_BYTES")
    static let pingSetting = Setting("ws-ping-seconds", env: "WS_PING_SECONDS")
    static let heartbeatSetting = Setting("heartbeat-ms", env: "HEARTBEAT_MS")
    static let offlineQueueCapSetting = Setting("offline-queue-cap", env: "OFFLINE_QUEUE_CAP")
    static let noticeIconBaseSetting = Setting("notice-icon-base", env: "NOTICE_ICON_BASE")
    static let historyCapSetting = Setting("history-cap", env: "HISTORY_CAP")
    static let streamMaxLengthSetting = Setting("stream-max-len", env: "STREAM_MAX_LEN")
    static let sendDedupSetting = Setting("send-dedup-seconds", env: "SEND_DEDUP_SECONDS")

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
        var settings = BridgeSettings(host: host, port: port, jwtSecret: jwtSecret, visitorSalt: visitorSalt)
        settings.bcryptCost = try Self.bcryptCostSetting.resolve(flag: bcryptCost, environment: environment, default: 10) {
            Int($0).flatMap { (4...15).contains($0) ? $0 : nil }
        }
        settings.gateway.maxFrameBytes = try Self.maxFrameSetting.resolve(
            flag: webSocketMaxFrameBytes, environment: environment, default: 64 * 1024
        ) { Int($0).flatMap { (125...(16 << 20)).contains($0) ? $0 : nil } }
        settings.gateway.pingInterval = try Self.pingSetting.resolve(flag: webSocketPingSeconds, environment: environment, default: .seconds(30)) {
            Int64($0).flatMap { (1...3600).contains($0) ? .seconds($0) : nil }
        }
        settings.delivery.heartbeat = try Self.heartbeatSetting.resolve(flag: heartbeatMilliseconds, environment: environment, default: .seconds(5)) {
            Int64($0).flatMap { (50...600_000).contains($0) ? .milliseconds($0) : nil }
        }
        settings.delivery.offlineQueueCap = try Self.offlineQueueCapSetting.resolve(
            flag: offlineQueueCap, environment: environment, default: 5000
        ) { Int($0).flatMap { (1...10_000_000).contains($0) ? $0 : nil } }
        settings.noticeIconBase = try Self.noticeIconBaseSetting.resolve(
            flag: noticeIconBase, environment: environment, default: GuidanceMessages.defaultIconBase
        ) { $0.isEmpty || $0.contains(where: \.isWhitespace) ? nil : $0 }
        settings.messages.historyCap = try Self.historyCapSetting.resolve(flag: historyCap, environment: environment, default: 1000) {
            Int($0).flatMap { (1...1_000_000).contains($0) ? $0 : nil }
        }
        settings.messages.streamCap = try Self.streamMaxLengthSetting.resolve(
            flag: streamMaxLength, environment: environment, default: StreamName.defaultHardCap
        ) { Int($0).flatMap { (1000...1_000_000_000).contains($0) ? $0 : nil } }
        settings.messages.clientIDWindow = try Self.sendDedupSetting.resolve(flag: sendDedupSeconds, environment: environment, default: .seconds(300)) {
            Int64($0).flatMap { (1...86_400).contains($0) ? .seconds($0) : nil }
        }
        return settings
    }
}
