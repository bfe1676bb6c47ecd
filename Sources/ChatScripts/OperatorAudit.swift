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

    /// The audit's plain names (one Redis).
    static func encodeKeys(into command: inout RedisCommandArguments) {
        encodeKeys(.plain, into: &command)
    }

    /// The audit's keys in `keys`' layout (partition 0's tag on a tagged one).
    static func encodeKeys(_ keys: RedisKeys, into command: inout RedisCommandArguments) {
        command.append(keys.adminAuditIDs)
        command.append(keys.adminAudit)
        command.append(keys.auditStream)
    }

    /// A tagged layout's step before the audit: `placeholder`, a key of the step's own
    /// slot, in the audit keys' places (the script does not write them).
    static func encodePlaceholders(_ placeholder: String, into command: inout RedisCommandArguments) {
        for _ in keyNames { command.append(placeholder) }
    }

    func encodeArguments(into command: inout RedisCommandArguments) {
        command.append(admin)
        command.append(address)
        command.append(now)
    }
}
