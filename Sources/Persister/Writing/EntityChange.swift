import Model

/// The entities of `chat:stream:entities` (docs/architecture.md) and the tables they are rows of.
enum Entity: String, Sendable, CaseIterable {
    case user
    case userInfo = "user_info"
    case goodfriend
    case goodfriendapply
    case group
    case groupUser = "group_user"
    case complaint
    case askanswer
    /// A block (docs/api.md, *Blocks*), apart from the friendship rows.
    case block
    /// An operators' console account (the bcrypt hash with it), and an operator's action:
    /// accepted from the private stream only.
    case admin
    case adminAudit = "admin_audit"

    var table: String {
        switch self {
        case .complaint: "chat_complaint"
        case .block: "user_block"
        case .admin: "chat_admin"
        default: rawValue
        }
    }

    /// Its events come on the private stream only (a secret, or the operators' record).
    var isPrivate: Bool {
        self == .admin || self == .adminAudit
    }
}

/// One decoded entity event: the whole row after the change, and its version.
struct EntityChange: Sendable {
    enum Operation: String, Sendable {
        case upsert
        case delete
    }

    let entity: Entity
    let operation: Operation
    let id: Int64
    let version: Int64
    /// The row snapshot; for a delete, the row as it was (not written).
    let row: JSONObject

    init(fields: [String: String]) throws(EntryError) {
        guard let name = fields["entity"] else { throw EntryError("no entity field") }
        guard let entity = Entity(rawValue: name) else { throw EntryError("unknown entity '\(name)'") }
        guard let op = fields["op"].flatMap(Operation.init(rawValue:)) else {
            throw EntryError("op must be upsert or delete, not '\(fields["op"] ?? "")'")
        }
        guard let id = fields["id"].flatMap({ Int64($0) }), id > 0, id <= (entity == .adminAudit ? Int64.max : Int64(UInt32.max)) else {
            throw EntryError("id must be a positive integer, not '\(fields["id"] ?? "")'")
        }
        guard let version = fields["version"].flatMap({ Int64($0) }), version >= 0 else {
            throw EntryError("version must be a non-negative integer, not '\(fields["version"] ?? "")'")
        }
        let row: JSONObject
        if op == .upsert {
            guard let text = fields["row"] else { throw EntryError("an upsert needs its row") }
            do {
                guard let object = try JSONParser.parse(text).objectValue else { throw EntryError("row is not a JSON object") }
                row = object
            } catch let error as JSONParser.Failure {
                throw EntryError("row: \(error)")
            } catch let error as EntryError {
                throw error
            } catch {
                throw EntryError("row: \(error)")
            }
        } else {
            row = JSONObject()
        }
        self.entity = entity
        self.operation = op
        self.id = id
        self.version = version
        self.row = row
    }
}

/// Why an entry cannot be written: bad data, not a failure of MariaDB. Retrying will not
/// help; after the configured number of attempts the entry goes to the dead letters.
struct EntryError: Error, Sendable, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
