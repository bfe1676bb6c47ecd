import Model
import RedisClient

/// Groups newest first from `chat:groups` (score = gid; on a tagged layout one per
/// partition, merged), or one by id; rows and member counts in one pipeline.
struct GroupDirectory: Sendable {
    /// A group's member list is bounded (`--group-max-members`), but a page shows no more.
    static let membersShown = 1000
    let redis: RedisClient
    let keys: RedisKeys

    func list(query: String?, paging: Paging) async throws -> PageOf<GroupSummary> {
        if let query, !query.isEmpty {
            let rows = try await self.rows(Int(query).map { [$0] } ?? [])
            return PageOf(readAhead: paging.page == 1 ? rows : [], paging: paging)
        }
        guard keys.layout.isTagged else {
            let ids = try await redis.send(
                "ZREVRANGE", keys.groups(partition: 0), String(paging.offset), String(paging.offset + paging.size)
            ).throwingOnError().ids
            return PageOf(readAhead: try await rows(ids), paging: paging)
        }
        // Each partition's newest `offset + size + 1`, merged.
        let replies = try await redis.pipeline((0..<keys.layout.partitions).map {
            RedisCommand("ZREVRANGE", keys.groups(partition: $0), "0", String(paging.offset + paging.size))
        })
        var ids: [Int] = []
        for reply in replies { ids += try reply.throwingOnError().ids }
        ids.sort(by: >)
        return PageOf(readAhead: try await rows(Array(ids.dropFirst(paging.offset).prefix(paging.size + 1))), paging: paging)
    }

    func rows(_ ids: [Int]) async throws -> [GroupSummary] {
        var commands: [RedisCommand] = []
        for id in ids {
            commands.append(.texts("HMGET", [keys.group(id)] + GroupSummary.fields))
            commands.append(RedisCommand("HLEN", keys.groupMembers(id)))
        }
        let replies = try await redis.pipeline(commands)
        return stride(from: 0, to: replies.count, by: 2).compactMap { index in
            guard var row = GroupSummary(values: (replies[index].array ?? []).map(\.string)) else { return nil }
            row.members = Int(replies[index + 1].integer ?? 0)
            return row
        }
    }

    /// The group and its members (at most `membersShown`, by user id).
    func group(_ id: Int) async throws -> (GroupSummary, [GroupMember])? {
        guard let group = try await rows([id]).first else { return nil }
        let reply = try await redis.send("HGETALL", keys.groupMembers(id)).throwingOnError()
        let members = reply.fieldValues.values.compactMap(GroupMember.init(json:)).sorted { $0.userID < $1.userID }
        return (group, Array(members.prefix(Self.membersShown)))
    }
}
