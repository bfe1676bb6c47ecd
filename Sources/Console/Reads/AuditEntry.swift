import Model
import RedisClient

/// A row of the audit trail as `chat:admin:audit` keeps it (JSON, newest first); the
/// durable record is the `admin_audit` entity event in MariaDB.
struct AuditEntry: Sendable {
    let id: Int
    let admin: String
    let action: String
    let targetType: String
    let targetID: String
    let target: String
    let detail: String
    let address: String
    let createTime: String
    let raw: JSONValue

    init?(json: String) {
        guard case .object(let row) = try? JSONParser.parse(json) else { return nil }
        func text(_ key: String) -> String {
            switch row[key] {
            case .string(let value)?: value
            case .integer(let value)?: String(value)
            case .double(let value)?: String(value)
            case .object?, .array?: JSONSerializer.string(row[key]!)
            default: ""
            }
        }
        id = Int(text("id")) ?? 0
        admin = text("admin")
        action = text("action")
        targetType = text("target_type")
        targetID = text("target_id")
        target = targetID.isEmpty ? targetType : "\(targetType) \(targetID)"
        detail = text("detail")
        address = text("address")
        createTime = text("create_time")
        raw = .object(row)
    }
}
