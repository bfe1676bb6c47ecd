import ChatGateway
import Hummingbird
import Logging
import Model
import RedisClient

/// Every route of the HTTP API, registered on a router or on a group of one: health, the
/// public account routes, then `/api/chat/*` behind `ChatAuthMiddleware`. `/metrics` is
/// not among them: it has a listener of its own (`MetricsListener`, `--metrics-port`).
package struct APIRoutes: Sendable {
    package typealias Context = BridgeRequestContext

    let redis: RedisClient
    let accounts: AccountService
    let visitors: VisitorService
    let delivery: MessageDelivery
    let sender: MessageSender
    let revoker: MessageRevoker
    let complaints: ComplaintStore
    let askAnswers: AskAnswerStore
    /// Where notice icons live (`--notice-icon-base`).
    let noticeIconBase: String
    /// Uploads, serving and video screenshots (`--upload-*`, `--ffmpeg`).
    let files: FilePolicy
    /// Rows a group may have (`--group-max-members`).
    let groupMaxMembers: Int
    /// The names of the keys in the deployment's layout (`--redis-partitions`).
    let keys: RedisKeys
    /// `--group-max-members`' default: WeChat's size of a group one joins by invitation.
    package static let defaultGroupMaxMembers = 500

    package init(
        redis: RedisClient, accounts: AccountService, visitors: VisitorService,
        delivery: MessageDelivery, sender: MessageSender, revoker: MessageRevoker, complaints: ComplaintStore,
        askAnswers: AskAnswerStore, noticeIconBase: String, files: FilePolicy,
        groupMaxMembers: Int = APIRoutes.defaultGroupMaxMembers, keys: RedisKeys
    ) {
        self.keys = keys
        self.redis = redis
        self.accounts = accounts
        self.visitors = visitors
        self.delivery = delivery
        self.sender = sender
        self.revoker = revoker
        self.complaints = complaints
        self.askAnswers = askAnswers
        self.noticeIconBase = noticeIconBase
        self.files = files
        self.groupMaxMembers = groupMaxMembers
    }

    package func register(on router: some RouterMethods<Context>) {
        HealthRoutes(redis: redis).register(on: router)
        // One authentication, three groups by what their routes need read before they run.
        let authentication = ChatAuthentication(tokens: accounts.tokens, store: accounts.store)
        let chat = router.group("api/chat").add(middleware: ChatAuthMiddleware(authentication: authentication, reads: .account))
        let offline = router.group("api/chat").add(middleware: ChatAuthMiddleware(authentication: authentication, reads: .deliveryTarget))
        let sends = router.group("api/chat").add(middleware: ChatAuthMiddleware(authentication: authentication, reads: .nothing))
        AccountRoutes(accounts: accounts).register(public: router, chat: chat)
        VisitorRoutes(visitors: visitors).register(on: router)
        UserRoutes(directory: UserDirectory(store: accounts.store)).register(public: router, chat: chat)
        OfflineRoutes(delivery: delivery).register(chat: offline)
        MessageRoutes(sender: sender, revoker: revoker, authentication: authentication).register(chat: chat, sends: sends)
        let friends = FriendStore(accounts: accounts.store, keys: keys)
        FriendRoutes(store: friends, notices: FriendNotices(delivery: delivery, iconBase: noticeIconBase))
            .register(chat: chat)
        GroupRoutes(
            store: GroupStore(accounts: accounts.store, maxMembers: groupMaxMembers, keys: keys), friends: friends,
            notices: GroupNotices(delivery: delivery, iconBase: noticeIconBase)
        ).register(chat: chat)
        ComplaintRoutes(store: complaints).register(chat: chat)
        AskAnswerRoutes(store: askAnswers).register(chat: chat)
        let uploads = UploadFolder(path: files.uploadFolder)
        // One screenshotter: its ffmpeg slots bound getVideoScreenshot and x-oss-process together.
        let screenshotter = VideoScreenshotter(folder: uploads, policy: files, logger: Logger(label: "bridge.screenshots"))
        UploadServing(folder: uploads, processor: OSSProcessor(screenshotter: screenshotter)).register(on: router)
        UploadRoutes(
            receiver: UploadReceiver(folder: uploads, policy: files, logger: Logger(label: "bridge.uploads")),
            policy: files, quota: UploadQuota(redis: redis, keys: accounts.store.keys, perDay: files.uploadsPerDay)
        ).register(chat: chat)
        VideoScreenshotRoutes(screenshotter: screenshotter).register(chat: chat)
        QRCodeRoutes(accounts: accounts.store).register(chat: chat)
    }
}
