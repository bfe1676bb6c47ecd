import ChatAPI
import ChatScripts
import Logging
import LuaScripts
import Model
import RedisClient

/// What the routes need, built once at start-up.
struct ConsoleDependencies: Sendable {
    let settings: ConsoleSettings
    /// The deployment's key layout.
    let keys: RedisKeys
    let redis: RedisClient
    let scripts: RedisScripts
    let sessions: SessionStore
    let login: LoginService
    let users: UserDirectory
    let complaints: ComplaintDirectory
    let deadLetters: DeadLetterList
    let actions: OperatorActions
    let pages: PageResponder
    let logger: Logger

    init(settings: ConsoleSettings, keys: RedisKeys, redis: RedisClient, logger: Logger = Logger(label: "console")) {
        self.settings = settings
        self.keys = keys
        self.redis = redis
        self.logger = logger
        scripts = RedisScripts(client: redis, scripts: LuaScripts.all.map { RedisScript(name: $0.name, source: $0.source) })
        let hasher = PasswordHasher(cost: settings.bcryptCost)
        // The console's bcrypt runs are few (logins, password resets): one at a time.
        let work = PasswordWork(concurrency: 1, queue: 16)
        sessions = SessionStore(redis: redis, keys: keys, idleSeconds: settings.sessionIdleSeconds, maxSeconds: settings.sessionMaxSeconds)
        login = LoginService(
            accounts: AdminAccounts(redis: redis, keys: keys, hasher: hasher), sessions: sessions, scripts: scripts, keys: keys, policy: settings.login,
            work: work, logger: logger, decoy: hasher.hash(RandomToken.make())
        )
        users = UserDirectory(redis: redis, keys: keys)
        complaints = ComplaintDirectory(redis: redis, keys: keys)
        deadLetters = DeadLetterList(redis: redis)
        actions = OperatorActions(
            scripts: scripts, accounts: AccountStore(scripts: scripts, keys: keys, streamCap: settings.streamCap), hasher: hasher, work: work,
            users: users, complaints: complaints, deadLetters: deadLetters, streamCap: settings.streamCap,
            deadAfterMilliseconds: settings.deadAfterMilliseconds, logger: Logger(label: "console.actions")
        )
        pages = PageResponder(renderer: PageRenderer(), cookies: SessionCookies(secure: settings.cookieSecure))
    }
}
