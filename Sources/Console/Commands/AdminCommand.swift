import ArgumentParser
import ChatAPI
import ChatRuntime
import Foundation
import Logging
import RedisClient

/// `console admin create|reset|disable NAME`: the operators' accounts, from the command
/// line only (docs/console.md, *Accounts*). Audited as the admin `cli`.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Create, reset or disable an operator's account.",
        subcommands: [Create.self, Reset.self, Disable.self]
    )

    /// What every admin subcommand takes.
    struct Account: ParsableArguments {
        @Argument(help: "The operator's name: letters, digits, '_', '-', '.', 1–64 characters.")
        var name: String

        @Option(name: .customLong("bcrypt-cost"), help: "bcrypt cost of the password hash, 4–15 (env BCRYPT_COST, default 10); as `console serve`'s.")
        var bcryptCost: String?

        @OptionGroup var common: CommonOptions
    }

    struct PasswordFile: ParsableArguments {
        @Option(name: .customLong("password-file"), help: "Keep the password in this file (mode 0600): a password already in it is used, else a generated one is written to it. Without it a generated password is printed once.")
        var path: String?
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an operator's account (or do nothing when it exists).")
        @OptionGroup var account: Account
        @OptionGroup var passwordFile: PasswordFile

        func run() async throws {
            try await AdminCommand.withAccounts(account) { accounts, name in
                if try await accounts.find(name) != nil {
                    print("admin '\(name)' exists already")
                    return
                }
                let password = try AdminPassword.obtain(file: passwordFile.path)
                try await accounts.put(name: name, password: password.text, enabled: true)
                password.announce(for: name)
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give an operator a new password and enable the account.")
        @OptionGroup var account: Account
        @OptionGroup var passwordFile: PasswordFile

        func run() async throws {
            try await AdminCommand.withAccounts(account) { accounts, name in
                guard try await accounts.find(name) != nil else { throw ValidationError("no admin '\(name)'") }
                let password = try AdminPassword.obtain(file: passwordFile.path, reuse: false)
                try await accounts.put(name: name, password: password.text, enabled: true)
                password.announce(for: name)
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an operator's account; its sessions end at their next request.")
        @OptionGroup var account: Account

        func run() async throws {
            try await AdminCommand.withAccounts(account) { accounts, name in
                guard try await accounts.find(name) != nil else { throw ValidationError("no admin '\(name)'") }
                try await accounts.put(name: name, password: nil, enabled: false)
                print("admin '\(name)' disabled")
            }
        }
    }

    static func withAccounts(
        _ account: Account, _ body: (AdminAccounts, String) async throws -> Void
    ) async throws {
        let settings: CommonSettings
        let cost: Int
        do {
            let environment = processEnvironment()
            settings = try account.common.resolve(environment: environment)
            cost = try ConsoleOptions.bcryptCost(flag: account.bcryptCost, environment: environment)
        } catch {
            ConsoleCommand.exit(configurationError: error)
        }
        guard AdminAccounts.isValidName(account.name) else {
            throw ValidationError("an admin name is 1–64 letters, digits, '_', '-' or '.'")
        }
        Bootstrap.logging(level: .warning)
        let redis = RedisClient(configuration: settings.redis, logger: Logger(label: "console.redis"))
        let accounts = AdminAccounts(redis: redis, keys: settings.keys, hasher: PasswordHasher(cost: cost))
        do {
            try await body(accounts, account.name)
        } catch {
            await redis.shutdown()
            throw error
        }
        await redis.shutdown()
    }
}
