import Model
import RedisClient

/// Reads the two facts the guidance messages depend on, in two round trips at most:
/// whether the user owns an active, non-blacklisted friend row (`chat:friends:{uid}`)
/// and whether one of their groups (`chat:user:{uid}:groups`) is active.
struct GuidanceFacts: Sendable {
    let redis: RedisClient

    /// Groups looked at; someone in more has an active one among them in practice.
    static let groupsChecked = 200

    func facts(of user: Int) async throws -> GuidanceMessages.Facts {
        let replies = try await redis.pipeline([
            RedisCommand("HVALS", RedisKeys.friends(user)),
            RedisCommand("ZRANGE", RedisKeys.groupsOfUser(user), 0, Self.groupsChecked - 1),
        ])
        var facts = GuidanceMessages.Facts()
        facts.hasActiveFriend = (replies[0].array ?? []).contains { reply in
            guard let bytes = reply.bytes, case .object(let row)? = try? JSONParser.parse(bytes) else { return false }
            return row["status"]?.integerValue == 1 && (row["isblack"]?.integerValue ?? 0) == 0
        }
        let groups = (replies[1].array ?? []).compactMap { $0.string.flatMap { Int($0) } }
        if !groups.isEmpty {
            let statuses = try await redis.pipeline(groups.map { RedisCommand("HGET", RedisKeys.group($0), "status") })
            facts.inActiveGroup = statuses.contains { $0.string == "1" }
        }
        return facts
    }
}
