import RedisClient

extension RedisCommand {
    /// A command of text arguments (`HMGET key f1 f2 …`).
    static func texts(_ name: String, _ arguments: [String]) -> RedisCommand {
        RedisCommand(name, arguments.map { $0 as any RedisArgument })
    }
}

extension RedisReply {
    /// The ids of a zset range (`ZREVRANGE`), in order.
    var ids: [Int] { (array ?? []).compactMap { $0.integer.map(Int.init) } }
}
