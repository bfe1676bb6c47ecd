import RedisClient

extension RateLimit {
    /// One login step of both subjects: one run on one Redis; on a tagged layout
    /// (`separately`) a run per subject, each key on its own slot — an attempt the address
    /// refuses gives back the account's pending attempt it counted first.
    public static func login(
        _ step: LoginStep, username: String, address: String?, policy: LoginPolicy, realm: LoginRealm = .chat,
        separately: Bool, on scripts: RedisScripts
    ) async throws(RedisError) -> Reply {
        func run(_ step: LoginStep, _ subjects: LoginSubjects) async throws(RedisError) -> Reply {
            try await scripts.run(RateLimit(.login(
                step, username: username, address: address, policy: policy, realm: realm, subjects: subjects
            )))
        }
        guard separately else { return try await run(step, .both) }
        let account = try await run(step, .account)
        if step == .attempt, account != .allowed { return account }
        guard address != nil, policy.addressLimit > 0 else { return account }
        let byAddress = try await run(step, .address)
        if step == .attempt, byAddress != .allowed {
            _ = try? await run(.release, .account)
            return byAddress
        }
        switch (account, byAddress) {
        case (.locked(let lockedAccount, _), .locked(_, let lockedAddress)):
            return .locked(account: lockedAccount, address: lockedAddress)
        case (.locked, _): return account
        case (_, .locked): return byAddress
        default: return account
        }
    }
}
