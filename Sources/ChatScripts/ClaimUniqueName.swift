import Model
import RedisClient

/// `lua/user_claim.lua`: one unique name's claim (a username, uuid or device id → the
/// account's id) on its own slot, the first and last steps of a registration or rename on
/// a tagged layout (docs/architecture.md, *Accounts on partitions*).
public struct ClaimUniqueName: ChatScript {
    public static let scriptName = "user_claim"
    public static let layouts = [
        ScriptLayout(operation: "claim", keys: ["claim"], arguments: ["op", "id", "pending_ms", "replacing"]),
        ScriptLayout(operation: "confirm", keys: ["claim"], arguments: ["op", "id"]),
        ScriptLayout(operation: "release", keys: ["claim"], arguments: ["op", "id"]),
    ]

    /// What is claimed: each its own key, on its own slot.
    public enum Name: Sendable, Hashable {
        case username(String)
        case uuid(String)
        case device(String)

        public func key(_ keys: RedisKeys) -> String {
            switch self {
            case .username(let name): keys.userByName(name)
            case .uuid(let uuid): keys.userByUUID(uuid)
            case .device(let device): keys.userByDevice(device)
            }
        }
    }

    public enum Operation: Sendable, Equatable {
        /// Pending for `pendingMilliseconds`; `replacing`: the id of a stale holder to replace.
        case claim(pendingMilliseconds: Int, replacing: Int?)
        /// No deadline any more (the account's row holds the name).
        case confirm
        /// Deleted if it is still the id's.
        case release
    }

    public enum Reply: Sendable, Equatable {
        case done
        /// `claim`: held by another account; `remaining`: its pending time (ms), nil once confirmed.
        case held(by: Int, remaining: Int?)
        /// `claim` replacing a holder that is not the one named (it changed): check again.
        case changed
        /// `confirm`: the claim is not the id's (it expired, or was released).
        case lost
    }

    public var keys: RedisKeys
    public var name: Name
    public var userID: Int
    public var operation: Operation

    public init(keys: RedisKeys, name: Name, userID: Int, _ operation: Operation) {
        self.keys = keys
        self.name = name
        self.userID = userID
        self.operation = operation
    }

    public var keyCount: Int { 1 }

    public func encode(into command: inout RedisCommandArguments) {
        command.append(name.key(keys))
        switch operation {
        case .claim(let pending, let replacing):
            command.append("claim")
            command.append(userID)
            command.append(pending)
            command.append(replacing.map(String.init) ?? "")
        case .confirm:
            command.append("confirm")
            command.append(userID)
        case .release:
            command.append("release")
            command.append(userID)
        }
    }

    public static func decode(_ reply: RedisFlatReply) throws(RedisError) -> Reply {
        var reader = ScriptReplyReader(reply, script: scriptName)
        if let code = reader.errorCode {
            guard code == "lost" else { throw reader.unexpected() }
            return .lost
        }
        guard case .array = reply.kind(at: reply.root) else { return .done }
        guard reader.count == 2, let holderText = reader.nextIfAny().flatMap({ reply.string(at: $0) }),
            let remaining = reader.nextIfAny().flatMap({ reply.integer(at: $0) })
        else { throw reader.unexpected() }
        guard let holder = Int(holderText) else { return .changed }
        return .held(by: holder, remaining: remaining >= 0 ? Int(remaining) : nil)
    }
}
