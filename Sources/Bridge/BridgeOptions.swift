import ArgumentParser
import ChatAPI
import ChatGateway
import ChatRuntime
import Model

/// The bridge's own options; each falls back to an environment variable.
struct BridgeOptions: ParsableArguments {
    @Option(name: .customLong("host"), help: "Address to listen on (env BRIDGE_HOST, default 127.0.0.1).")
    var host: String?

    @Option(name: .customLong("port"), help: "HTTP and WebSocket port (env BRIDGE_PORT, default 7001).")
    var port: String?

    @Option(name: .customLong("metrics-host"), help: "Address of the /metrics listener, kept off the public port (env BRIDGE_METRICS_HOST, default 127.0.0.1).")
    var metricsHost: String?

    @Option(name: .customLong("metrics-port"), help: "Port of the /metrics listener; 0: none. Several bridges on one machine need distinct ports (env BRIDGE_METRICS_PORT, default 7004).")
    var metricsPort: String?

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

    @Option(name: .customLong("ws-outbound-bytes"), help: "Bytes a WebSocket may hold that the kernel has not taken (writes not completed, pushes held back); over it the connection is dropped without a close frame and its untaken messages go back to the offline queue (env WS_OUTBOUND_BYTES, default 65536).")
    var webSocketOutboundBytes: String?

    @Option(name: .customLong("ws-send-buffer-bytes"), help: "SO_SNDBUF of every accepted socket, which the kernel doubles; 0 keeps the kernel's self-tuning buffer (env WS_SEND_BUFFER_BYTES, default 262144).")
    var webSocketSendBufferBytes: String?

    @Option(name: .customLong("ws-sockets-per-user"), help: "Live WebSocket connections one user may hold across all processes; one more is dropped without a close frame (env WS_SOCKETS_PER_USER, default 10).")
    var webSocketSocketsPerUser: String?

    @Option(name: .customLong("http-header-timeout-seconds"), help: "A request's head must arrive whole within this many seconds, or the connection is closed (env HTTP_HEADER_TIMEOUT_SECONDS, default 10).")
    var httpHeaderTimeoutSeconds: String?

    @Option(name: .customLong("http-idle-timeout-seconds"), help: "An HTTP connection silent this many seconds between requests, or within a request body, is closed (env HTTP_IDLE_TIMEOUT_SECONDS, default 60).")
    var httpIdleTimeoutSeconds: String?

    @Option(name: .customLong("heartbeat-ms"), help: "Heartbeat of this process in chat:nodes and of its users' online_{uid}; three missed heartbeats and it is no longer a delivery target. The same on every process (env HEARTBEAT_MS, default 5000).")
    var heartbeatMilliseconds: String?

    @Option(name: .customLong("offline-queue-cap"), help: "Messages kept per offline queue chat_getmessage_{uid}; the oldest beyond it are dropped and counted (env OFFLINE_QUEUE_CAP, default 5000).")
    var offlineQueueCap: String?

    @Option(name: .customLong("offline-queue-bytes"), help: "Bytes of messages kept per offline queue chat_getmessage_{uid} (what the user would receive); the oldest beyond it are dropped and counted, the newest always kept (env OFFLINE_QUEUE_BYTES, default 16777216).")
    var offlineQueueBytes: String?

    @Option(name: .customLong("notice-icon-base"), help: "URL prefix of the icons of system notices and guidance messages (env NOTICE_ICON_BASE).")
    var noticeIconBase: String?

    @Option(name: .customLong("history-cap"), help: "Messages kept per history list (chatlog:…); older ones are trimmed and counted (env HISTORY_CAP, default 1000).")
    var historyCap: String?

    @Option(name: .customLong("stream-max-len"), help: "Hard cap (MAXLEN ~) of chat:stream:messages, chat:stream:entities and chat:stream:private, the safety net against a consumer group that never reads (env STREAM_MAX_LEN, default 5000000).")
    var streamMaxLength: String?

    @Option(name: .customLong("send-dedup-seconds"), help: "How long the client id of a WebSocket send is remembered: a retry within it is acknowledged with the first acceptance and not sent again (env SEND_DEDUP_SECONDS, default 300).")
    var sendDedupSeconds: String?

    @Option(name: .customLong("auto-reply-queue"), help: "Questions waiting for their automatic Q&A answer per bridge process; beyond it a question is still accepted but gets no automatic answer (counted, logged) (env AUTO_REPLY_QUEUE, default 10000).")
    var autoReplyQueue: String?

    @Option(name: .customLong("auto-reply-workers"), help: "Automatic Q&A answers worked on at once per bridge process (env AUTO_REPLY_WORKERS, default 8).")
    var autoReplyWorkers: String?

    @Option(name: .customLong("upload-dir"), help: "Folder of uploaded files and video screenshots, served at /public/uploads/ (env UPLOAD_DIR, default ./uploads).")
    var uploadDirectory: String?

    @Option(name: .customLong("upload-max-bytes"), help: "Largest file accepted by the upload endpoints (env UPLOAD_MAX_BYTES, default 104857600 = 100 MB).")
    var uploadMaxBytes: String?

    @Option(name: .customLong("upload-extensions"), help: "Comma-separated file name extensions that may be uploaded (env UPLOAD_EXTENSIONS, default: common images, videos and audio).")
    var uploadExtensions: String?

    @Option(name: .customLong("public-base-url"), help: "Scheme, host and port clients reach this bridge at, for the absolute URLs of uploadAliyun, e.g. https://chat.example.com (env PUBLIC_BASE_URL, default http:// + the request's Host).")
    var publicBaseURL: String?

    @Option(name: .customLong("ffmpeg"), help: "The ffmpeg executable of getVideoScreenshot: a path or a name in PATH (env FFMPEG_PATH, default ffmpeg).")
    var ffmpeg: String?

    @Option(name: .customLong("screenshot-timeout-ms"), help: "ffmpeg is killed after this long (env SCREENSHOT_TIMEOUT_MS, default 15000).")
    var screenshotTimeoutMilliseconds: String?

    @Option(name: .customLong("screenshot-concurrency"), help: "ffmpeg processes at once per bridge process; further getVideoScreenshot requests are refused (env SCREENSHOT_CONCURRENCY, default 4).")
    var screenshotConcurrency: String?

    @Option(name: .customLong("oss-cache-mb"), help: "Disk space of the images made for x-oss-process (video covers, resized images) in the upload folder's .oss-process; the least recently used go first (env OSS_CACHE_MB, default 256).")
    var ossCacheMegabytes: String?

    @Option(name: .customLong("uploads-per-day"), help: "Files one user may upload per day (UTC); further uploads are refused (env UPLOADS_PER_DAY, default 500).")
    var uploadsPerDay: String?

    @Option(name: .customLong("login-failures-per-account"), help: "Failed logins in a row that lock an account; 0: no limit (env LOGIN_FAILURES_PER_ACCOUNT, default 5).")
    var loginFailuresPerAccount: String?

    @Option(name: .customLong("login-failures-per-ip"), help: "Failed logins from one client address, whatever the accounts, that lock the address; 0: no limit (env LOGIN_FAILURES_PER_IP, default 50).")
    var loginFailuresPerAddress: String?

    @Option(name: .customLong("login-lockout-seconds"), help: "The first lock of an account or address; each further one doubles (env LOGIN_LOCKOUT_SECONDS, default 60).")
    var loginLockoutSeconds: String?

    @Option(name: .customLong("login-lockout-max-seconds"), help: "The longest lock, and how long a quiet account or address is remembered (env LOGIN_LOCKOUT_MAX_SECONDS, default 3600).")
    var loginLockoutMaxSeconds: String?

    @Option(name: .customLong("registrations-per-ip"), help: "regChat calls per client address per hour; 0: no limit (env REGISTRATIONS_PER_IP, default 20).")
    var registrationsPerAddress: String?

    @Option(name: .customLong("visitor-calls-per-ip"), help: "Calls of the three visitor endpoints per client address per hour; 0: no limit (env VISITOR_CALLS_PER_IP, default 100).")
    var visitorCallsPerAddress: String?

    @Option(name: .customLong("trust-forwarded-for"), help: "true: the client address is the last one of X-Forwarded-For, for a bridge behind one proxy that appends it; never with clients reaching the bridge directly (env TRUST_FORWARDED_FOR, default false).")
    var trustForwardedFor: String?

    @Option(name: .customLong("bcrypt-concurrency"), help: "bcrypt hashes run at once per process, on the blocking thread pool file serving also uses (env BCRYPT_CONCURRENCY, default half the cores, at least 1).")
    var bcryptConcurrency: String?

    @Option(name: .customLong("bcrypt-queue"), help: "bcrypt hashes that may wait for a slot per process; one more is refused (env BCRYPT_QUEUE, default 32).")
    var bcryptQueue: String?

    @Option(name: .customLong("event-loops"), help: "Event loop threads of the sockets and Redis connections, 1–256 (env BRIDGE_EVENT_LOOPS, default: the cores, less one when Redis is on this machine).")
    var eventLoops: String?

    @Option(name: .customLong("send-rate"), help: "Messages one user may send per second (a token bucket in the send scripts); 0: no limit (env SEND_RATE, default 10).")
    var sendRate: String?

    @Option(name: .customLong("send-burst"), help: "Messages one user may send at once beyond --send-rate: the bucket's size (env SEND_BURST, default 20).")
    var sendBurst: String?

    @Option(name: .customLong("group-max-members"), help: "Members one group may have, counting those waiting for the owner's approval; creating, inviting and joining beyond it are refused (env GROUP_MAX_MEMBERS, default 500).")
    var groupMaxMembers: String?

    static let hostSetting = Setting("host", env: "BRIDGE_HOST")
    static let eventLoopsSetting = Setting("event-loops", env: "BRIDGE_EVENT_LOOPS")
    static let portSetting = Setting("port", env: "BRIDGE_PORT")
    static let metricsHostSetting = Setting("metrics-host", env: "BRIDGE_METRICS_HOST")
    static let metricsPortSetting = Setting("metrics-port", env: "BRIDGE_METRICS_PORT")
    static let jwtSecretSetting = Setting("jwt-secret", env: "JWT_SECRET")
    static let visitorSaltSetting = Setting("visitor-salt", env: "VISITOR_SALT")
    static let bcryptCostSetting = Setting("bcrypt-cost", env: "BCRYPT_COST")
    static let maxFrameSetting = Setting("ws-max-frame-bytes", env: "WS_MAX_FRAME_BYTES")
    static let pingSetting = Setting("ws-ping-seconds", env: "WS_PING_SECONDS")
    static let outboundBytesSetting = Setting("ws-outbound-bytes", env: "WS_OUTBOUND_BYTES")
    static let sendBufferSetting = Setting("ws-send-buffer-bytes", env: "WS_SEND_BUFFER_BYTES")
    static let socketsPerUserSetting = Setting("ws-sockets-per-user", env: "WS_SOCKETS_PER_USER")
    static let headerTimeoutSetting = Setting("http-header-timeout-seconds", env: "HTTP_HEADER_TIMEOUT_SECONDS")
    static let idleTimeoutSetting = Setting("http-idle-timeout-seconds", env: "HTTP_IDLE_TIMEOUT_SECONDS")
    static let heartbeatSetting = Setting("heartbeat-ms", env: "HEARTBEAT_MS")
    static let offlineQueueCapSetting = Setting("offline-queue-cap", env: "OFFLINE_QUEUE_CAP")
    static let offlineQueueBytesSetting = Setting("offline-queue-bytes", env: "OFFLINE_QUEUE_BYTES")
    static let noticeIconBaseSetting = Setting("notice-icon-base", env: "NOTICE_ICON_BASE")
    static let historyCapSetting = Setting("history-cap", env: "HISTORY_CAP")
    static let streamMaxLengthSetting = Setting("stream-max-len", env: "STREAM_MAX_LEN")
    static let sendDedupSetting = Setting("send-dedup-seconds", env: "SEND_DEDUP_SECONDS")
    static let autoReplyQueueSetting = Setting("auto-reply-queue", env: "AUTO_REPLY_QUEUE")
    static let autoReplyWorkersSetting = Setting("auto-reply-workers", env: "AUTO_REPLY_WORKERS")
    static let uploadDirectorySetting = Setting("upload-dir", env: "UPLOAD_DIR")
    static let uploadMaxBytesSetting = Setting("upload-max-bytes", env: "UPLOAD_MAX_BYTES")
    static let uploadExtensionsSetting = Setting("upload-extensions", env: "UPLOAD_EXTENSIONS")
    static let publicBaseURLSetting = Setting("public-base-url", env: "PUBLIC_BASE_URL")
    static let ffmpegSetting = Setting("ffmpeg", env: "FFMPEG_PATH")
    static let screenshotTimeoutSetting = Setting("screenshot-timeout-ms", env: "SCREENSHOT_TIMEOUT_MS")
    static let screenshotConcurrencySetting = Setting("screenshot-concurrency", env: "SCREENSHOT_CONCURRENCY")
    static let ossCacheSetting = Setting("oss-cache-mb", env: "OSS_CACHE_MB")
    static let uploadsPerDaySetting = Setting("uploads-per-day", env: "UPLOADS_PER_DAY")
    static let sendRateSetting = Setting("send-rate", env: "SEND_RATE")
    static let sendBurstSetting = Setting("send-burst", env: "SEND_BURST")
    static let groupMaxMembersSetting = Setting("group-max-members", env: "GROUP_MAX_MEMBERS")
    static let loginFailuresPerAccountSetting = Setting("login-failures-per-account", env: "LOGIN_FAILURES_PER_ACCOUNT")
    static let loginFailuresPerAddressSetting = Setting("login-failures-per-ip", env: "LOGIN_FAILURES_PER_IP")
    static let loginLockoutSetting = Setting("login-lockout-seconds", env: "LOGIN_LOCKOUT_SECONDS")
    static let loginLockoutMaxSetting = Setting("login-lockout-max-seconds", env: "LOGIN_LOCKOUT_MAX_SECONDS")
    static let registrationsPerAddressSetting = Setting("registrations-per-ip", env: "REGISTRATIONS_PER_IP")
    static let visitorCallsPerAddressSetting = Setting("visitor-calls-per-ip", env: "VISITOR_CALLS_PER_IP")
    static let trustForwardedForSetting = Setting("trust-forwarded-for", env: "TRUST_FORWARDED_FOR")
    static let bcryptConcurrencySetting = Setting("bcrypt-concurrency", env: "BCRYPT_CONCURRENCY")
    static let bcryptQueueSetting = Setting("bcrypt-queue", env: "BCRYPT_QUEUE")

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
        settings.metricsHost = try Self.metricsHostSetting.resolve(flag: metricsHost, environment: environment, default: settings.metricsHost) {
            $0.isEmpty || $0.contains(where: \.isWhitespace) ? nil : $0
        }
        settings.metricsPort = try Self.metricsPortSetting.resolve(flag: metricsPort, environment: environment, default: settings.metricsPort) {
            Int($0).flatMap { (0...65535).contains($0) ? $0 : nil }
        }
        settings.bcryptCost = try Self.bcryptCostSetting.resolve(flag: bcryptCost, environment: environment, default: 10) {
            Int($0).flatMap { (4...15).contains($0) ? $0 : nil }
        }
        settings.gateway.maxFrameBytes = try Self.maxFrameSetting.resolve(
            flag: webSocketMaxFrameBytes, environment: environment, default: 64 * 1024
        ) { Int($0).flatMap { (125...(16 << 20)).contains($0) ? $0 : nil } }
        settings.gateway.pingInterval = try Self.pingSetting.resolve(flag: webSocketPingSeconds, environment: environment, default: .seconds(30)) {
            Int64($0).flatMap { (1...3600).contains($0) ? .seconds($0) : nil }
        }
        try resolveBounds(environment: environment, into: &settings)
        settings.delivery.heartbeat = try Self.heartbeatSetting.resolve(flag: heartbeatMilliseconds, environment: environment, default: .seconds(5)) {
            Int64($0).flatMap { (50...600_000).contains($0) ? .milliseconds($0) : nil }
        }
        settings.delivery.offlineQueueCap = try Self.offlineQueueCapSetting.resolve(
            flag: offlineQueueCap, environment: environment, default: 5000
        ) { Int($0).flatMap { (1...10_000_000).contains($0) ? $0 : nil } }
        settings.delivery.offlineQueueByteCap = try Self.offlineQueueBytesSetting.resolve(
            flag: offlineQueueBytes, environment: environment, default: 16 << 20
        ) { Int($0).flatMap { (1...(1 << 40)).contains($0) ? $0 : nil } }
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
        settings.messages.sendRate = try Self.sendRateSetting.resolve(flag: sendRate, environment: environment, default: 10) {
            Int($0).flatMap { (0...100_000).contains($0) ? $0 : nil }
        }
        settings.messages.sendBurst = try Self.sendBurstSetting.resolve(flag: sendBurst, environment: environment, default: 20) {
            Int($0).flatMap { (1...100_000).contains($0) ? $0 : nil }
        }
        settings.groupMaxMembers = try Self.groupMaxMembersSetting.resolve(
            flag: groupMaxMembers, environment: environment, default: settings.groupMaxMembers
        ) { Int($0).flatMap { (2...100_000).contains($0) ? $0 : nil } }
        settings.messages.autoReplyQueueCap = try Self.autoReplyQueueSetting.resolve(
            flag: autoReplyQueue, environment: environment, default: settings.messages.autoReplyQueueCap
        ) { Int($0).flatMap { (1...10_000_000).contains($0) ? $0 : nil } }
        settings.messages.autoReplyWorkers = try Self.autoReplyWorkersSetting.resolve(
            flag: autoReplyWorkers, environment: environment, default: settings.messages.autoReplyWorkers
        ) { Int($0).flatMap { (1...1024).contains($0) ? $0 : nil } }
        settings.files = try resolveFiles(environment: environment)
        settings.accountLimits = try resolveAccountLimits(environment: environment)
        settings.eventLoops = try Self.eventLoopsSetting.resolve(flag: eventLoops, environment: environment, default: nil) {
            Int($0).flatMap { (1...256).contains($0) ? .some($0) : nil }
        }
        return settings
    }

    /// What one socket, one user's sockets and one HTTP connection may hold.
    private func resolveBounds(environment: [String: String], into settings: inout BridgeSettings) throws(ConfigurationError) {
        settings.gatewayLimits.outboundBytes = try Self.outboundBytesSetting.resolve(
            flag: webSocketOutboundBytes, environment: environment, default: 64 << 10
        ) { Int($0).flatMap { (4096...(1 << 30)).contains($0) ? $0 : nil } }
        settings.gateway.sendBufferBytes = try Self.sendBufferSetting.resolve(
            flag: webSocketSendBufferBytes, environment: environment, default: 256 * 1024
        ) { Int($0).flatMap { $0 == 0 || (4096...(64 << 20)).contains($0) ? $0 : nil } }
        settings.gatewayLimits.socketsPerUser = try Self.socketsPerUserSetting.resolve(
            flag: webSocketSocketsPerUser, environment: environment, default: 10
        ) { Int($0).flatMap { (1...10_000).contains($0) ? $0 : nil } }
        settings.gateway.httpHeaderTimeout = try Self.headerTimeoutSetting.resolve(
            flag: httpHeaderTimeoutSeconds, environment: environment, default: .seconds(10)
        ) { Int64($0).flatMap { (1...3600).contains($0) ? .seconds($0) : nil } }
        settings.gateway.httpIdleTimeout = try Self.idleTimeoutSetting.resolve(
            flag: httpIdleTimeoutSeconds, environment: environment, default: .seconds(60)
        ) { Int64($0).flatMap { (1...86_400).contains($0) ? .seconds($0) : nil } }
    }

    /// docs/operations.md, *Rate limits*.
    private func resolveAccountLimits(environment: [String: String]) throws(ConfigurationError) -> AccountLimits.Policy {
        var limits = AccountLimits.Policy()
        let count = { (text: String) -> Int? in Int(text).flatMap { (0...1_000_000).contains($0) ? $0 : nil } }
        limits.loginFailuresPerAccount = try Self.loginFailuresPerAccountSetting.resolve(
            flag: loginFailuresPerAccount, environment: environment, default: limits.loginFailuresPerAccount, parse: count
        )
        limits.loginFailuresPerAddress = try Self.loginFailuresPerAddressSetting.resolve(
            flag: loginFailuresPerAddress, environment: environment, default: limits.loginFailuresPerAddress, parse: count
        )
        limits.lockout = try Self.loginLockoutSetting.resolve(flag: loginLockoutSeconds, environment: environment, default: limits.lockout) {
            Int64($0).flatMap { (1...86_400).contains($0) ? .seconds($0) : nil }
        }
        limits.maxLockout = try Self.loginLockoutMaxSetting.resolve(
            flag: loginLockoutMaxSeconds, environment: environment, default: max(limits.maxLockout, limits.lockout)
        ) { Int64($0).flatMap { (1...(30 * 86_400)).contains($0) ? .seconds($0) : nil } }
        guard limits.maxLockout >= limits.lockout else {
            throw Self.loginLockoutMaxSetting.fail("must be at least --login-lockout-seconds")
        }
        limits.registrationsPerAddress = try Self.registrationsPerAddressSetting.resolve(
            flag: registrationsPerAddress, environment: environment, default: limits.registrationsPerAddress, parse: count
        )
        limits.visitorCallsPerAddress = try Self.visitorCallsPerAddressSetting.resolve(
            flag: visitorCallsPerAddress, environment: environment, default: limits.visitorCallsPerAddress, parse: count
        )
        limits.trustForwardedFor = try Self.trustForwardedForSetting.resolve(flag: trustForwardedFor, environment: environment, default: false) {
            ["true": true, "1": true, "false": false, "0": false][$0.lowercased()]
        }
        limits.bcryptConcurrency = try Self.bcryptConcurrencySetting.resolve(
            flag: bcryptConcurrency, environment: environment, default: limits.bcryptConcurrency
        ) { Int($0).flatMap { (1...256).contains($0) ? $0 : nil } }
        limits.bcryptQueue = try Self.bcryptQueueSetting.resolve(flag: bcryptQueue, environment: environment, default: limits.bcryptQueue) {
            Int($0).flatMap { (0...100_000).contains($0) ? $0 : nil }
        }
        return limits
    }

    private func resolveFiles(environment: [String: String]) throws(ConfigurationError) -> FilePolicy {
        var files = FilePolicy()
        files.uploadFolder = try Self.uploadDirectorySetting.resolve(flag: uploadDirectory, environment: environment, default: files.uploadFolder) {
            $0.isEmpty || $0.contains("\0") ? nil : $0
        }
        files.maxUploadBytes = try Self.uploadMaxBytesSetting.resolve(flag: uploadMaxBytes, environment: environment, default: files.maxUploadBytes) {
            Int($0).flatMap { (1...(1 << 40)).contains($0) ? $0 : nil }
        }
        files.allowedExtensions = try Self.uploadExtensionsSetting.resolve(
            flag: uploadExtensions, environment: environment, default: files.allowedExtensions
        ) { text in
            let names = text.split(separator: ",").map { $0.trimming(" .").lowercased() }
            guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 10 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } })
            else { return nil }
            return Set(names)
        }
        files.publicBaseURL = try Self.publicBaseURLSetting.resolve(flag: publicBaseURL, environment: environment, default: nil) {
            let url = String($0.trimming("/"))
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), !url.contains(where: \.isWhitespace) else { return nil }
            return .some(url)
        }
        files.ffmpeg = try Self.ffmpegSetting.resolve(flag: ffmpeg, environment: environment, default: files.ffmpeg) {
            $0.isEmpty ? nil : $0
        }
        files.screenshotTimeout = try Self.screenshotTimeoutSetting.resolve(
            flag: screenshotTimeoutMilliseconds, environment: environment, default: files.screenshotTimeout
        ) { Int64($0).flatMap { (100...600_000).contains($0) ? .milliseconds($0) : nil } }
        files.screenshotConcurrency = try Self.screenshotConcurrencySetting.resolve(
            flag: screenshotConcurrency, environment: environment, default: files.screenshotConcurrency
        ) { Int($0).flatMap { (1...64).contains($0) ? $0 : nil } }
        files.processedCacheBytes = try Self.ossCacheSetting.resolve(
            flag: ossCacheMegabytes, environment: environment, default: files.processedCacheBytes
        ) { Int($0).flatMap { (1...1_048_576).contains($0) ? $0 << 20 : nil } }
        files.uploadsPerDay = try Self.uploadsPerDaySetting.resolve(flag: uploadsPerDay, environment: environment, default: files.uploadsPerDay) {
            Int($0).flatMap { (1...10_000_000).contains($0) ? $0 : nil }
        }
        return files
    }
}
