import ChatAPI
import ChatGateway

/// The bridge's validated settings.
struct BridgeSettings: Sendable {
    /// Where the token secret came from: a generated one cannot be shared between
    /// processes, so the bridge warns about it.
    enum Secret: Sendable {
        case configured(String)
        case generated(String)

        var value: String {
            switch self {
            case .configured(let value), .generated(let value): value
            }
        }
    }

    /// The salt deployed clients compute `X-Security-Sign` with (docs/api.md).
    static let defaultVisitorSalt = "45ncashdaksh2!#@3nxjdas*_259"

    /// The old schema's default avatars (docs/api.md, *Default avatars*).
    static let defaultUserAvatar = "https://docs-51yrc-com.oss-cn-hangzhou.aliyuncs.com/chat/user.jpg"
    static let defaultGroupAvatar = "https://docs-51yrc-com.oss-cn-hangzhou.aliyuncs.com/chat/group.png"

    var host: String
    var port: Int
    /// The `/metrics` listener's address, off the public port (`--metrics-host`,
    /// `--metrics-port`; port 0: none).
    var metricsHost = "127.0.0.1"
    var metricsPort = 7004
    var jwtSecret: Secret
    var visitorSalt: String
    /// bcrypt cost of new password hashes.
    var bcryptCost: Int = 10
    /// Login lockouts, registrations and visitor calls per address, bcrypt's slots.
    var accountLimits = AccountLimits.Policy()
    var gateway = GatewayChannel.Configuration()
    var gatewayLimits = GatewayLimits()
    var delivery = DeliveryPolicy()
    var messages = MessagePolicy()
    var noticeIconBase = GuidanceMessages.defaultIconBase
    var files = FilePolicy()
    /// Rows a group may have, applicants included (`--group-max-members`).
    var groupMaxMembers = APIRoutes.defaultGroupMaxMembers
    /// Nil: ``EventLoopCount/default(redis:cores:)``.
    var eventLoops: Int?

    static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(UInt8.random(in: 0...255, using: &generator), radix: 16) }.joined()
    }
}
