import ChatScripts
import Foundation
import Hummingbird
import HummingbirdTesting
import LuaScripts
import Model
import NIOCore
import Prometheus
import RedisClient
import Testing
import TestSupport

@testable import Bridge
@testable import ChatAPI
@testable import ChatGateway

/// Accounts on a real Redis Cluster (three primaries, each with a replica): registration,
/// login, the `/api/chat` authentication and searchUser through the bridge's routes, and a
/// connection's registration (`online_connect`), with users on all three primaries. The
/// cluster client refuses a command or script whose keys are in several slots, so any
/// script run of these operations that is not on one partition fails here.
@Suite("Accounts on a Redis Cluster", .serialized, .offCooperativePool)
struct AccountClusterTests {
    @Test("register, log in, authenticate, search and connect, with users on all three primaries", .timeLimit(.minutes(3)))
    func accountsOnCluster() async throws {
        let cluster = try RedisClusterProcess()
        var configuration = try RedisConfiguration(url: cluster.url)
        configuration.commandTimeout = .seconds(10)
        let redis = RedisClient(configuration: configuration)
        defer { Task { await redis.shutdown() } }
        #expect(redis.isCluster)
        let keys = RedisKeys(layout: KeyLayout(partitionTags: PartitionTags.evenlySpaced(count: 12)))
        let dependencies = await BridgeApplication.Dependencies.make(
            settings: TestBridge.settings(), redis: redis, metrics: PrometheusCollectorRegistry(), node: "cluster-node",
            background: BackgroundWork(owned: false), keys: keys
        )
        let tag = String(UUID().uuidString.prefix(6)).lowercased()
        try await Application(router: BridgeApplication.router(dependencies)).test(.router) { client in
            var accounts: [UserTests.Account] = []
            var primaries: Set<Int> = []
            while primaries.count < 3 {
                let account = try await UserTests.register(client, "cl\(tag)\(accounts.count)")
                accounts.append(account)
                let slot = Int(HashSlot(key: keys.user(account.id)).rawValue)
                primaries.insert(try cluster.primary(ofSlot: slot))
                #expect(accounts.count <= 12)
            }
            for account in accounts {
                let login = try await AccountTests.call(
                    client, "/api/loginChat", ["username": .string(account.username), "password": "secret1"]
                )
                let token = try #require(AccountTests.token(of: login))
                // The old token was replaced by the login's.
                let stale = try await AccountTests.call(client, "/api/chat/searchUser", ["keyword": .string(tag)], token: account.token)
                #expect(stale.body == AccountTests.fail("Token 令牌不合法！"))
                let found = try await AccountTests.call(client, "/api/chat/searchUser", ["keyword": .string(tag)], token: token)
                let names = found.body.objectValue?["data"]?.arrayValue?.compactMap { $0.objectValue?["username"]?.stringValue }
                #expect(names == accounts.filter { $0.id != account.id }.map(\.username))

                let registered = try await dependencies.scripts.run(RegisterConnection(
                    keys: keys, user: account.id, token: token, target: DeliveryTarget(node: "cluster-node", connection: 1),
                    tokenID: String(token.split(separator: ".").last ?? ""), ttlMilliseconds: 30_000, socketLimit: 5,
                    flushCount: 10, flushBytes: 65_536
                ))
                guard case .registered(let connection) = registered else {
                    Issue.record("online_connect: \(registered)")
                    continue
                }
                #expect(connection.kick == nil && UserRow(hash: connection.row)?.id == account.id)
                #expect(try await redis.send("GET", keys.online(account.id)).string == "cluster-node:1")
            }

            // A rename (claims on their slots, the row in its partition), then an
            // operator's disable (its partition's run, then the audit row on its own slot).
            let first = accounts[0]
            let store = dependencies.accounts.store
            let row = try #require(try await store.user(id: first.id))
            let renamed = try await store.update(row, requireActive: true, newUsername: "rn\(tag)", columns: [])
            #expect(renamed.username == "rn\(tag)")
            #expect(try await store.user(named: "rn\(tag)")?.id == first.id)
            #expect(try await store.user(named: first.username) == nil)
            let audit = OperatorAudit(admin: "ops", address: "127.0.0.1", now: "2026-12-07 12:00:00")
            let disabled = try await dependencies.scripts.run(ChangeUserByOperator(
                keys: keys, user: first.id, .disable, audit: audit, streamCap: 1000, deadAfterMilliseconds: 60_000
            ))
            guard case .changedUnaudited(_, let kicks, let action, let detail) = disabled else {
                Issue.record("admin_user_change: \(disabled)")
                return
            }
            #expect(kicks == 1 && action == "user.disable")
            let auditID = try await dependencies.scripts.run(RecordAudit(
                keys: keys, audit: audit, streamCap: 1000, action: action, targetType: "user", targetID: first.id, detail: detail
            ))
            let newest = try await redis.send("LINDEX", keys.adminAudit, "0").string ?? ""
            #expect(newest.contains("\"id\":\(auditID)") && newest.contains("user.disable"))
            let refused = try await AccountTests.call(client, "/api/loginChat", ["username": .string("rn\(tag)"), "password": "secret1"])
            #expect(refused.body == AccountTests.fail(AccountService.accountUnavailable))
        }
    }
}
