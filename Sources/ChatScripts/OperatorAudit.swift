import Model
import RedisClient

/// Who makes an operator's change, from where and when: the arguments of the audit row
/// every console script writes (`lua/lib/audit.lua`), with the keys it writes to.
public struct OperatorAudit: Sendable, Equatable {
    /// The operator's name (`cli` from the command line).
    public var admin: String
    /// The operator's client address ('' from the command line).
    public var address: String
    /// The time ('YYYY-MM-DD HH:mm:ss').
    public var now: String

    public init(admin: String, address: String, now: String) {
        self.admin = admin
        self.address = address
        self.now = now
    }

    /// The first keys of every console script.
    static let keyNames = ["audit_ids", "audit_list", "private"]
    /// Its arguments, in this order.
    static let argumentNames = ["admin", "address", "now"]

    static func encodeKeys(into command: inout RedisCommandArguments) {
        command.append(RedisKeys.adminAuditIDs)
        command.append(RedisKeys.adminAudit)
        command.append(StreamName.privateEntities)
    }

    func encodeArguments(into command: inout RedisCommandArguments) {
        command.append(admin)
        command.append(address)
        command.append(now)
    }
}
