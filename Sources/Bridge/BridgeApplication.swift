import ChatAPI
import ChatGateway
import ChatRuntime
import Hummingbird
import HummingbirdCore
import Logging
import LuaScripts
import Model
import Prometheus
import RedisClient
import ServiceLifecycle

/// Builds the bridge's HTTP application: routes and middleware as small values.
enum BridgeApplication {
    typealias Context = BridgeRequestContext

    /// What the routes need, built once at start-up.
    struct Dependencies: Sendable {
        let redis: RedisClient
        let metrics: PrometheusCollectorRegistry
        let accounts: AccountService
        let visitors: VisitorService
        let scripts: RedisScripts
        let delivery: MessageDelivery
        let sender: MessageSender
        let revoker: MessageRevoker
        let gateway: Gateway
        let complaints: ComplaintStore
        let askAnswers: AskAnswerStore
        /// Answers questions sent with `options.askanswer`; run as a service.
        let autoReplies: AutoReplyService
        /// Where notice icons live (`--notice-icon-base`).
        let noticeIconBase: String
        /// Uploads, serving and video screenshots (`--upload-*`, `--ffmpeg`).
        let files: FilePolicy
        /// Rows a group may have (`--group-max-members`).
        let groupMaxMembers: Int
        /// The names of the keys in the deployment's layout (`--redis-partitions`).
        let keys: RedisKeys

        /// - Parameter background: the delivery's background work; the caller decides who
        ///   runs it (the bridge's service group, or nobody: `BackgroundWork(owned: false)`).
        static func make(
            settings: BridgeSettings, redis: RedisClient, metrics: PrometheusCollectorRegistry, node: String,
            background: BackgroundWork, keys: RedisKeys, logger: Logger = Logger(label: "bridge")
        ) async -> Dependencies {
            let scripts = RedisScripts(
                client: redis, scripts: LuaScripts.all.map { RedisScript(name: $0.name, source: $0.source) }
            )
            let delivery = MessageDelivery(
                scripts: scripts, keys: keys, connections: ConnectionTable(), node: node, policy: settings.delivery,
                logger: Logger(label: "bridge.delivery"), background: background
            )
            let accounts = AccountService(
                store: AccountStore(scripts: scripts, keys: keys, streamCap: settings.messages.streamCap),
                hasher: PasswordHasher(cost: settings.bcryptCost),
                tokens: await TokenService(secret: settings.jwtSecret.value),
                sessions: SessionRevoker(delivery: delivery, keys: keys),
                defaultAvatar: BridgeSettings.defaultUserAvatar,
                limits: AccountLimits(scripts: scripts, keys: keys, policy: settings.accountLimits)
            )
            let visitors = VisitorService(accounts: accounts, signature: VisitorSignature(salt: settings.visitorSalt))
            let questions = AutoReplyQueue(capacity: settings.messages.autoReplyQueueCap, logger: Logger(label: "bridge.askanswer"))
            let sender = MessageSender(
                scripts: scripts, delivery: delivery, policy: settings.messages, logger: Logger(label: "bridge.messages"), autoReplies: questions
            )
            let askAnswers = AskAnswerStore(scripts: scripts, streamCap: settings.messages.streamCap, keys: keys)
            let revoker = MessageRevoker(scripts: scripts, delivery: delivery, policy: settings.messages, logger: Logger(label: "bridge.messages"))
            let gateway = Gateway(
                tokens: accounts.tokens, delivery: delivery, sender: sender,
                guidance: GuidanceMessages(iconBase: settings.noticeIconBase), limits: settings.gatewayLimits, keys: keys,
                logger: Logger(label: "bridge.gateway")
            )
            return Dependencies(
                redis: redis, metrics: metrics, accounts: accounts, visitors: visitors, scripts: scripts,
                delivery: delivery, sender: sender, revoker: revoker, gateway: gateway,
                complaints: ComplaintStore(scripts: scripts, streamCap: settings.messages.streamCap, keys: keys), askAnswers: askAnswers,
                autoReplies: AutoReplyService(
                    queue: questions, replier: AutoReplier(store: askAnswers, sender: sender, delivery: delivery),
                    workers: settings.messages.autoReplyWorkers
                ),
                noticeIconBase: settings.noticeIconBase, files: settings.files, groupMaxMembers: settings.groupMaxMembers,
                keys: keys
            )
        }
    }

    static func make(settings: BridgeSettings, dependencies: Dependencies, logger: Logger) -> some ApplicationProtocol {
        Application(
            router: router(dependencies),
            server: HTTPServerBuilder { responder in
                GatewayChannel(responder: responder, configuration: settings.gateway, gateway: dependencies.gateway)
            },
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "chat-bridge"),
            logger: logger
        )
    }

    /// `/metrics` on a listener of its own (`--metrics-host`, `--metrics-port`); nil with port 0.
    static func metricsListener(settings: BridgeSettings, dependencies: Dependencies) -> (any Service)? {
        guard settings.metricsPort > 0 else { return nil }
        return MetricsListener.service(
            host: settings.metricsHost, port: settings.metricsPort, registry: dependencies.metrics, serverName: "chat-bridge-metrics",
            logger: Logger(label: "bridge.metrics")
        )
    }

    static func router(_ dependencies: Dependencies) -> Router<Context> {
        let router = Router(context: Context.self)
        registerRoutes(dependencies, on: router)
        return router
    }

    /// Every HTTP route, on a router or a group of one.
    static func registerRoutes(_ dependencies: Dependencies, on router: some RouterMethods<Context>) {
        APIRoutes(
            redis: dependencies.redis, accounts: dependencies.accounts,
            visitors: dependencies.visitors, delivery: dependencies.delivery, sender: dependencies.sender,
            revoker: dependencies.revoker, complaints: dependencies.complaints, askAnswers: dependencies.askAnswers,
            noticeIconBase: dependencies.noticeIconBase, files: dependencies.files,
            groupMaxMembers: dependencies.groupMaxMembers, keys: dependencies.keys
        ).register(on: router)
    }
}
