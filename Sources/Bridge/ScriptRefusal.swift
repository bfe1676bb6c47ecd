import RedisClient

/// A store's refusals: the short codes its scripts answer with `redis.error_reply(code)`.
protocol ScriptRefusal: Error, RawRepresentable where RawValue == String {}

extension ScriptRefusal {
    /// Throws the refusal a script's error reply names, or the reply's error.
    static func check(_ reply: RedisReply) throws {
        guard let code = reply.scriptError else { return }
        if let refusal = Self(rawValue: code) { throw refusal }
        throw RedisError.server(code)
    }
}
