import RedisClient

/// One Redis write of a row, as the scripts make it. `persister hydrate` sends the
/// writes' commands; `persister verify` checks that Redis holds what they would write.
enum RowWrite: Sendable {
    /// The hash is replaced by these field/value pairs (a row kept as a hash, `_v` last).
    case hash(String, [String])
    /// One field of a hash holds this JSON row.
    case field(String, String, String)
    /// One field of a hash holds this value (not a row: a tagged layout's username → id).
    case value(String, String, String)
    /// A string key holds this value; `newestRowWins`: several rows write it, the one with
    /// the highest id last (an old database's repeated friend requests for one pair).
    case string(String, String, newestRowWins: Bool = false)
    /// The member is in the sorted set with this score.
    case member(String, String, String)
    /// The member is not in the sorted set.
    case notMember(String, String)
    /// A counter that only has to change (a cache's version), never checked.
    case bump(String)

    var commands: [RedisCommand] {
        switch self {
        case .hash(let key, let fields):
            [RedisCommand("DEL", key), RedisCommand("HSET", [key as any RedisArgument] + fields.map { $0 as any RedisArgument })]
        case .field(let key, let field, let json), .value(let key, let field, let json): [RedisCommand("HSET", key, field, json)]
        case .string(let key, let value, _): [RedisCommand("SET", key, value)]
        case .member(let key, let score, let member): [RedisCommand("ZADD", key, score, member)]
        case .notMember(let key, let member): [RedisCommand("ZREM", key, member)]
        case .bump(let key): [RedisCommand("INCR", key)]
        }
    }
}
